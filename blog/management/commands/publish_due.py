"""Publishes scheduled posts whose time has come.

One transaction per post, with the same effects as a manual publish
(status, latest-post references, cache invalidation): see
`publishing.publish_scheduled`. The scheduler process (deploy/scheduler.py)
runs it every few seconds; running it twice at once is harmless (each post
is locked and re-checked before it is published).
"""
from django.core.management.base import BaseCommand
from django.utils import timezone

from blog import publishing
from blog.models import Post


class Command(BaseCommand):
    help = "Publish every scheduled post whose publication time has come."

    def handle(self, *args, **options):
        now = timezone.now()
        due = list(Post.objects.using(publishing.write_db()).due(now)
                   .order_by("published_at", "pk").values_list("pk", flat=True))
        published = [post for post in (publishing.publish_scheduled(pk, now) for pk in due) if post]
        for post in published:
            self.stdout.write(f"published {post.slug} (due {post.published_at:%Y-%m-%d %H:%M:%S} UTC)")
        if options["verbosity"] > 1 or published:
            self.stdout.write(f"publish_due: {len(published)} post(s) published")
