"""Changes made by any path (the admin, Django's user admin, the shell, a
cascade) keep the latest-post references and the page cache true.

- Deleting a post: the state readers saw is taken before the row goes, the
  effects applied once it has gone (same transaction).
- Renaming a user (username, first or last name) or changing an author's
  profile: every page showing the author's name or address is invalidated
  (`author:<id>` covers their posts, the lists they are on and their page;
  the feed names authors too; `author-at:<username>` the addresses).
- Adding, renaming or deleting a tag: every page showing it (`tag:<slug>`,
  the old slug and the new) and the sitemap, which lists tags.
"""
from django.contrib.auth import get_user_model
from django.db import router
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from cache import invalidate

from . import cache_tags, publishing
from .models import AuthorProfile, Post, Tag

User = get_user_model()
# What an author's name and address are made of (AuthorProfile.name, the author URL).
NAME_FIELDS = ("username", "first_name", "last_name")
PROFILE_FIELDS = {"user", "display_name", "bio"}


@receiver(pre_delete, sender=Post, dispatch_uid="blog.post.pre_delete")
def remember_post_state(sender, instance, **kwargs):
    instance._state_before_delete = publishing.state_of(instance)


@receiver(post_delete, sender=Post, dispatch_uid="blog.post.post_delete")
def apply_post_deletion(sender, instance, **kwargs):
    publishing.post_changed(getattr(instance, "_state_before_delete", None), None)


@receiver(pre_save, sender=User, dispatch_uid="blog.user.pre_save")
def remember_user_names(sender, instance, update_fields=None, **kwargs):
    """The names as stored, when this save may change them (a login's
    `last_login` update may not: no query then)."""
    instance._names_before = None
    if instance._state.adding or (update_fields is not None and not set(NAME_FIELDS) & set(update_fields)):
        return
    instance._names_before = (User.objects.using(router.db_for_write(User)).filter(pk=instance.pk)
                              .values_list(*NAME_FIELDS).first())


@receiver(post_save, sender=User, dispatch_uid="blog.user.post_save")
def invalidate_renamed_author(sender, instance, created, **kwargs):
    before = getattr(instance, "_names_before", None)
    if created:
        invalidate(cache_tags.author_at(instance.username))  # a 404 at the address they now own
    elif before is not None and before != tuple(getattr(instance, name) for name in NAME_FIELDS):
        invalidate(cache_tags.author(instance.pk), cache_tags.FEED,
                   cache_tags.author_at(before[0]), cache_tags.author_at(instance.username))


@receiver(post_delete, sender=User, dispatch_uid="blog.user.post_delete")
def invalidate_deleted_author(sender, instance, **kwargs):
    invalidate(cache_tags.author(instance.pk), cache_tags.FEED, cache_tags.author_at(instance.username))


@receiver(post_save, sender=AuthorProfile, dispatch_uid="blog.authorprofile.post_save")
@receiver(post_delete, sender=AuthorProfile, dispatch_uid="blog.authorprofile.post_delete")
def invalidate_author_profile(sender, instance, update_fields=None, **kwargs):
    """Author names show on their posts, the lists they are on, their page (author:<id>) and the feed."""
    if update_fields is None or PROFILE_FIELDS & set(update_fields):
        invalidate(cache_tags.author(instance.user_id), cache_tags.FEED)


@receiver(pre_save, sender=Tag, dispatch_uid="blog.tag.pre_save")
def remember_tag_slug(sender, instance, update_fields=None, **kwargs):
    instance._slug_before = None
    if not instance._state.adding and (update_fields is None or "slug" in update_fields):
        instance._slug_before = (Tag.objects.using(router.db_for_write(Tag)).filter(pk=instance.pk)
                                 .values_list("slug", flat=True).first())


@receiver(post_save, sender=Tag, dispatch_uid="blog.tag.post_save")
@receiver(post_delete, sender=Tag, dispatch_uid="blog.tag.post_delete")
def invalidate_tag(sender, instance, **kwargs):
    slugs = {instance.slug, getattr(instance, "_slug_before", None)} - {None}
    invalidate(*(cache_tags.tag(slug) for slug in slugs), cache_tags.SITEMAP)
