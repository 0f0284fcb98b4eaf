"""Deleting a post, by any path (admin, shell, cascade), keeps the latest-post
references and the page cache true: the state readers saw is taken before
the row goes, the effects are applied once it has gone (same transaction)."""
from django.db.models.signals import post_delete, pre_delete
from django.dispatch import receiver

from . import publishing
from .models import Post


@receiver(pre_delete, sender=Post, dispatch_uid="blog.post.pre_delete")
def remember_post_state(sender, instance, **kwargs):
    instance._state_before_delete = publishing.state_of(instance)


@receiver(post_delete, sender=Post, dispatch_uid="blog.post.post_delete")
def apply_post_deletion(sender, instance, **kwargs):
    publishing.post_changed(getattr(instance, "_state_before_delete", None), None)
