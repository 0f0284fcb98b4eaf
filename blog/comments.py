"""Adding and moderating comments, keeping `Post.comment_count` exact.

The count is the number of *visible* comments. It only ever changes with an
`F()` UPDATE in the same transaction as the comment change, so concurrent
commenters and moderators never lose each other's increments (no
read-modify-save). Every change invalidates the post's cached pages.
"""
from collections import Counter

from django.db import router, transaction
from django.db.models import F

from cache import invalidate

from . import cache_tags
from .models import Comment, Post

VISIBLE = Comment.Status.VISIBLE


def write_db():
    return router.db_for_write(Comment)


def add_comment(post, *, name, body, email="", ip_address=None, moderated=False):
    """Save a reader's comment: visible at once, or held for an editor."""
    db = write_db()
    with transaction.atomic(using=db):
        comment = Comment(post_id=post.pk, name=name, email=email, body=body, ip_address=ip_address,
                          status=Comment.Status.HELD if moderated else VISIBLE)
        comment.save(using=db)
        if comment.status == VISIBLE:
            adjust_counts(Counter({post.pk: 1}), db)
    return comment


def set_status(comment_ids, status):
    """Approve (VISIBLE), hide (HIDDEN) or hold comments; returns how many changed."""
    db = write_db()
    with transaction.atomic(using=db):
        changing = list(Comment.objects.using(db).select_for_update()
                        .filter(pk__in=comment_ids).exclude(status=status).values_list("pk", "post_id", "status"))
        deltas = Counter()
        for _, post_id, old_status in changing:
            deltas[post_id] += (status == VISIBLE) - (old_status == VISIBLE)
        Comment.objects.using(db).filter(pk__in=[pk for pk, _, _ in changing]).update(status=status)
        adjust_counts(deltas, db, also_invalidate={post_id for _, post_id, _ in changing})
    return len(changing)


def delete_comments(comment_ids):
    """Delete comments, taking the visible ones off their posts' counts."""
    db = write_db()
    with transaction.atomic(using=db):
        doomed = list(Comment.objects.using(db).select_for_update()
                      .filter(pk__in=comment_ids).values_list("pk", "post_id", "status"))
        deltas = Counter({})
        for _, post_id, status in doomed:
            deltas[post_id] -= status == VISIBLE
        Comment.objects.using(db).filter(pk__in=[pk for pk, _, _ in doomed]).delete()
        adjust_counts(deltas, db, also_invalidate={post_id for _, post_id, _ in doomed})
    return len(doomed)


def adjust_counts(deltas, db, also_invalidate=()):
    """Apply per-post count changes with F() and invalidate those posts' pages."""
    for post_id, delta in deltas.items():
        if delta:
            Post.objects.using(db).filter(pk=post_id).update(comment_count=F("comment_count") + delta)
    touched = {post_id for post_id, delta in deltas.items() if delta} | set(also_invalidate)
    invalidate(*(cache_tags.post(post_id) for post_id in touched), using=db)
