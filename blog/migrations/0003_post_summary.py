"""Post.summary: the excerpt or the body's first words, stored at save time
so that lists never load a post's body to make one."""
from django.db import migrations, models


def fill_summaries(apps, schema_editor):
    from blog.rendering import excerpt_of

    Post = apps.get_model("blog", "Post")
    for post in Post.objects.only("pk", "excerpt", "body_text").iterator():
        summary = post.excerpt.strip() or excerpt_of(post.body_text)
        Post.objects.filter(pk=post.pk).update(summary=summary)


class Migration(migrations.Migration):
    dependencies = [("blog", "0002_editors_group")]

    operations = [
        migrations.AddField(model_name="post", name="summary", field=models.TextField(default="", editable=False)),
        migrations.RunPython(fill_summaries, migrations.RunPython.noop),
    ]
