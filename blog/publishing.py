"""Everything that changes what readers see of a post: publish, schedule,
unpublish, edit, delete. Each runs in one transaction on the primary and,
inside it, keeps the denormalised "latest post" references of the post's
tags and author true and invalidates every cached page the change touches
(`cache.invalidate` fires on commit).

    before = state_of(post)          # read (and lock) before changing
    ... change and save the post, its tags ...
    post_changed(before, state_of(post))
"""
from dataclasses import dataclass, field
from datetime import datetime

from django.db import router, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from cache import invalidate

from . import cache_tags
from .models import AuthorProfile, Post, Tag

PUBLISHING_FIELDS = ["status", "published_at", "updated_by", "updated_at", "version"]


@dataclass(frozen=True)
class PostState:
    """What readers can see of a post at one moment (None-safe for a deleted post)."""
    post_id: int
    slug: str
    status: str
    published_at: datetime | None
    author_id: int
    tag_ids: frozenset = field(default_factory=frozenset)
    tag_slugs: frozenset = field(default_factory=frozenset)

    @property
    def is_published(self):
        return self.status == Post.Status.PUBLISHED


def write_db():
    return router.db_for_write(Post)


def state_of(post):
    """The post's state as stored (its tags read from the primary)."""
    tags = list(Tag.objects.using(write_db()).filter(posts=post.pk).values_list("pk", "slug"))
    return PostState(post.pk, post.slug, post.status, post.published_at, post.author_id,
                     frozenset(pk for pk, _ in tags), frozenset(slug for _, slug in tags))


def post_changed(before, after):
    """Bring latest-post references and the page cache in line with a change
    from `before` to `after` (either may be None: created, deleted)."""
    states = [state for state in (before, after) if state is not None]
    if not any(state.is_published for state in states):
        return  # a draft or scheduled post: readers never saw it, nor will yet
    refresh_latest_posts(
        tag_ids=set().union(*(state.tag_ids for state in states)),
        author_ids={state.author_id for state in states},
    )
    invalidate(*set().union(*(cache_tags.for_post_state(state) for state in states)), using=write_db())


def refresh_latest_posts(tag_ids=(), author_ids=()):
    """Point each tag and author at its newest published post (one UPDATE each)."""
    db = write_db()
    newest = Post.objects.using(db).published().newest_first().values("pk")
    if tag_ids:
        Tag.objects.using(db).filter(pk__in=tag_ids).update(
            latest_post=Subquery(newest.filter(tags=OuterRef("pk"))[:1]))
    if author_ids:
        AuthorProfile.objects.using(db).bulk_create(
            [AuthorProfile(user_id=user_id) for user_id in author_ids], ignore_conflicts=True)
        AuthorProfile.objects.using(db).filter(user_id__in=author_ids).update(
            latest_post=Subquery(newest.filter(author=OuterRef("user_id"))[:1]))


def change_status(post_id, status, *, by=None, published_at=None, expect=None):
    """Lock the post, move it to `status`, apply the effects. `expect` (a set
    of statuses) skips a post that is no longer in one of them; returns the
    saved post, or None when skipped."""
    db = write_db()
    with transaction.atomic(using=db):
        post = Post.objects.using(db).select_for_update().filter(pk=post_id).first()
        if post is None or (expect and post.status not in expect):
            return None
        before = state_of(post)
        post.status, post.published_at = status, published_at
        post.updated_by = by or post.updated_by
        post.save(update_fields=PUBLISHING_FIELDS)
        post_changed(before, state_of(post))
        return post


def publish(post, *, by=None, now=None):
    """Publish now (an already published post keeps its date)."""
    now = now or timezone.now()
    when = post.published_at if post.is_published and post.published_at else now
    return change_status(post.pk, Post.Status.PUBLISHED, by=by, published_at=when)


def publish_scheduled(post_id, now=None):
    """Publish one scheduled post whose time has come, at its scheduled time."""
    now = now or timezone.now()
    post = Post.objects.using(write_db()).filter(pk=post_id).first()
    if post is None or post.status != Post.Status.SCHEDULED or post.published_at > now:
        return None
    return change_status(post_id, Post.Status.PUBLISHED, published_at=post.published_at,
                         expect={Post.Status.SCHEDULED})


def schedule(post, when, *, by=None):
    return change_status(post.pk, Post.Status.SCHEDULED, by=by, published_at=when)


def unpublish(post, *, by=None):
    """Back to draft; the date is forgotten so a later publish is dated then."""
    return change_status(post.pk, Post.Status.DRAFT, by=by, published_at=None)
