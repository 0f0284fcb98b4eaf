"""Stored post and comment HTML gets what rendering now adds after
sanitising: tabindex="0" on each code block (<pre>), so a keyboard can reach
and scroll it. The stored HTML is rewritten, not re-rendered from Markdown:
only the tab stops change, never anything else the renderer of the day would
produce differently. Idempotent; reversing it leaves the tab stops in place."""
from django.db import migrations

BATCH = 500


def add_tab_stops(model):
    from blog.rendering import focusable_code_blocks

    rows = model.objects.filter(body_html__contains="<pre").only("pk", "body_html")
    changed = []
    for row in rows.iterator(chunk_size=BATCH):
        updated = focusable_code_blocks(row.body_html)
        if updated != row.body_html:
            row.body_html = updated
            changed.append(row)
        if len(changed) >= BATCH:
            model.objects.bulk_update(changed, ["body_html"])
            changed = []
    model.objects.bulk_update(changed, ["body_html"])


def focus_stored_code_blocks(apps, schema_editor):
    add_tab_stops(apps.get_model("blog", "Post"))
    add_tab_stops(apps.get_model("blog", "Comment"))


class Migration(migrations.Migration):
    dependencies = [("blog", "0003_post_summary")]

    operations = [migrations.RunPython(focus_stored_code_blocks, migrations.RunPython.noop)]
