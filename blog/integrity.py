"""The facts the database does not guard itself, checked and repaired.

Denormalised on purpose (see models.py) and kept true by the code that
writes them; anything that writes behind that code's back (a manual UPDATE,
a restore with triggers off, a bug) makes them drift:

    orphaned comments        comments of a post that no longer exists
    orphaned tag links       post-tag rows whose post or tag is gone
    orphaned author profiles profiles of a user that no longer exists
    posts without an author  reported only: deleting content needs a person
    comment counts           Post.comment_count = its visible comments
    tags' latest posts       Tag.latest_post = its newest published post
    authors' latest posts    AuthorProfile.latest_post = likewise (and a
                             profile for every author with a published post)
    search vectors           the stored text the search vector is generated
                             from (body_text), and the summary and reading
                             time, as the post's Markdown renders today

Everything runs on the primary (replicas may lag: a lagging read is not
drift). Repairs go in batches, each its own short transaction that locks
the rows it fixes first, then recomputes them from the source of truth
(a concurrent comment or publish is never overwritten), and invalidates
the cached pages that showed the wrong value.
"""
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import connections, transaction
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from cache import invalidate
from routing import PRIMARY

from . import cache_tags, publishing, querysets
from .models import AuthorProfile, Comment, Post, Tag

BATCH_SIZE = 200

POST, COMMENT, TAG = Post._meta.db_table, Comment._meta.db_table, Tag._meta.db_table
POST_TAGS, PROFILE = Post.tags.through._meta.db_table, AuthorProfile._meta.db_table
USER = get_user_model()._meta.db_table
# PostQuerySet.newest_first()'s order, in SQL over the alias `p`.
NEWEST_FIRST = ", ".join(f"p.{field.lstrip('-')} {'DESC' if field.startswith('-') else 'ASC'}"
                         for field in querysets.NEWEST_FIRST)


def ids_from(sql, params=()):
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def batches(ids, size):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


@dataclass
class Check:
    """One kind of fact: how to find the rows that break it, how to fix a batch."""
    name: str
    title: str
    unit: str
    find: callable
    repair: callable = None

    @property
    def repairable(self):
        return self.repair is not None


@dataclass
class Finding:
    check: Check
    ids: list
    repaired: int = 0
    remaining: list = field(default_factory=list)


# --- orphans -------------------------------------------------------------------
def orphan_check(table, alias, orphaned_when):
    """(find, delete) for the rows of `table` matching `orphaned_when`; the
    delete states the condition again so it never removes a row that a
    concurrent write has just made whole."""
    def find():
        return ids_from(f"SELECT {alias}.id FROM {table} {alias} WHERE {orphaned_when} ORDER BY {alias}.id")

    def delete(ids):
        return _delete(f"DELETE FROM {table} {alias} WHERE {alias}.id = ANY(%s) AND ({orphaned_when})", ids)

    return find, delete


find_orphaned_comments, delete_orphaned_comments = orphan_check(
    COMMENT, "c", f"NOT EXISTS (SELECT 1 FROM {POST} p WHERE p.id = c.post_id)")
find_orphaned_tag_links, delete_orphaned_tag_links = orphan_check(
    POST_TAGS, "pt", f"NOT EXISTS (SELECT 1 FROM {POST} p WHERE p.id = pt.post_id) "
                     f"OR NOT EXISTS (SELECT 1 FROM {TAG} t WHERE t.id = pt.tag_id)")
find_orphaned_profiles, delete_orphaned_profiles = orphan_check(
    PROFILE, "a", f"NOT EXISTS (SELECT 1 FROM {USER} u WHERE u.id = a.user_id)")
find_posts_without_author, _ = orphan_check(
    POST, "p", f"NOT EXISTS (SELECT 1 FROM {USER} u WHERE u.id = p.author_id)")


def _delete(sql, ids):
    with transaction.atomic(using=PRIMARY), connections[PRIMARY].cursor() as cursor:
        cursor.execute(sql, [list(ids)])
        return cursor.rowcount


# --- comment counts ------------------------------------------------------------
def find_wrong_comment_counts():
    return ids_from(
        f"SELECT p.id FROM {POST} p LEFT JOIN (SELECT post_id, count(*) AS visible FROM {COMMENT} "
        f"WHERE status = %s GROUP BY post_id) c ON c.post_id = p.id "
        "WHERE p.comment_count <> COALESCE(c.visible, 0) ORDER BY p.id", [Comment.Status.VISIBLE])


def recount_comments(ids):
    """Lock the posts, then count in a new statement: it sees every comment
    committed by whoever held the lock, so no concurrent increment is lost."""
    with transaction.atomic(using=PRIMARY):
        locked = list(Post.objects.using(PRIMARY).select_for_update().filter(pk__in=ids)
                      .values_list("pk", flat=True))
        visible = (Comment.objects.using(PRIMARY).filter(post=OuterRef("pk"), status=Comment.Status.VISIBLE)
                   .order_by().values("post").annotate(n=Count("pk")).values("n"))
        fixed = Post.objects.using(PRIMARY).filter(pk__in=locked).update(
            comment_count=Coalesce(Subquery(visible), Value(0)))
        invalidate(*(cache_tags.post(pk) for pk in locked), using=PRIMARY)
    return fixed


# --- latest-post references ----------------------------------------------------
def find_wrong_tag_latest_posts():
    return ids_from(
        f"SELECT t.id FROM {TAG} t WHERE t.latest_post_id IS DISTINCT FROM (SELECT p.id FROM {POST} p "
        f"JOIN {POST_TAGS} pt ON pt.post_id = p.id WHERE pt.tag_id = t.id AND p.status = %s "
        f"ORDER BY {NEWEST_FIRST} LIMIT 1) ORDER BY t.id", [Post.Status.PUBLISHED])


def refresh_tags(ids):
    with transaction.atomic(using=PRIMARY):
        tags = list(Tag.objects.using(PRIMARY).select_for_update().filter(pk__in=ids).values_list("pk", "slug"))
        publishing.refresh_latest_posts(tag_ids=[pk for pk, _ in tags])
        invalidate(cache_tags.SITEMAP, *(cache_tags.tag(slug) for _, slug in tags), using=PRIMARY)
    return len(tags)


def find_wrong_author_latest_posts():
    """User ids: profiles pointing at the wrong post, and authors of published
    posts with no profile at all (their author page would not exist)."""
    return ids_from(
        f"SELECT a.user_id FROM {PROFILE} a JOIN {USER} u ON u.id = a.user_id "
        f"WHERE a.latest_post_id IS DISTINCT FROM (SELECT p.id FROM {POST} p WHERE p.author_id = a.user_id "
        f"AND p.status = %s ORDER BY {NEWEST_FIRST} LIMIT 1) "
        f"UNION SELECT DISTINCT p.author_id FROM {POST} p JOIN {USER} u ON u.id = p.author_id "
        f"WHERE p.status = %s AND NOT EXISTS (SELECT 1 FROM {PROFILE} a WHERE a.user_id = p.author_id) "
        "ORDER BY 1", [Post.Status.PUBLISHED, Post.Status.PUBLISHED])


def refresh_authors(ids):
    with transaction.atomic(using=PRIMARY):
        list(AuthorProfile.objects.using(PRIMARY).select_for_update().filter(user_id__in=ids).values_list("pk"))
        publishing.refresh_latest_posts(author_ids=list(ids))
        invalidate(cache_tags.SITEMAP, *(cache_tags.author(pk) for pk in ids), using=PRIMARY)
    return len(ids)


# --- search vectors ------------------------------------------------------------
RENDERED_FIELDS = ("body_html", "body_text", "summary", "reading_minutes")
COMPARED_FIELDS = ("body_text", "summary", "reading_minutes")  # not the HTML: a Pygments upgrade is no drift


def rendered_afresh(post):
    fresh = Post(body=post.body, excerpt=post.excerpt)
    fresh.render()
    return fresh


def find_stale_search_text(batch_size=BATCH_SIZE):
    """Posts whose stored text (the search vector's input) is not what their
    Markdown renders to; read in keyset batches, rendered in Python."""
    stale, last = [], 0
    while True:
        posts = list(Post.objects.using(PRIMARY).filter(pk__gt=last).order_by("pk")
                     .only("pk", "body", "excerpt", *COMPARED_FIELDS)[:batch_size])
        if not posts:
            return stale
        for post in posts:
            fresh = rendered_afresh(post)
            if any(getattr(post, name) != getattr(fresh, name) for name in COMPARED_FIELDS):
                stale.append(post.pk)
        last = posts[-1].pk


def rerender_posts(ids):
    """Store the fresh rendering (PostgreSQL regenerates the search vector),
    unless an editor saved the post meanwhile (their save rendered it)."""
    fixed = 0
    with transaction.atomic(using=PRIMARY):
        for post in Post.objects.using(PRIMARY).select_for_update().filter(pk__in=ids):
            fresh = rendered_afresh(post)
            fixed += Post.objects.using(PRIMARY).filter(pk=post.pk, version=post.version).update(
                **{name: getattr(fresh, name) for name in RENDERED_FIELDS})
            invalidate(*cache_tags.for_post_state(publishing.state_of(post)), using=PRIMARY)
    return fixed


CHECKS = [
    Check("orphaned-comments", "Orphaned comments", "comment", find_orphaned_comments, delete_orphaned_comments),
    Check("orphaned-tag-links", "Orphaned tag links", "post-tag link", find_orphaned_tag_links,
          delete_orphaned_tag_links),
    Check("orphaned-author-profiles", "Orphaned author profiles", "profile", find_orphaned_profiles,
          delete_orphaned_profiles),
    Check("posts-without-author", "Posts without an author", "post", find_posts_without_author),
    Check("comment-counts", "Comment counts", "post", find_wrong_comment_counts, recount_comments),
    Check("tag-latest-posts", "Tags' latest posts", "tag", find_wrong_tag_latest_posts, refresh_tags),
    Check("author-latest-posts", "Authors' latest posts", "author", find_wrong_author_latest_posts,
          refresh_authors),
    Check("search-vectors", "Search vectors and summaries", "post", find_stale_search_text, rerender_posts),
]


def run(repair=False, batch_size=BATCH_SIZE, checks=CHECKS):
    """Every check, in order (orphans first: they skew the others); with
    `repair`, fix what is repairable batch by batch, then look again."""
    findings = []
    for check in checks:
        finding = Finding(check, check.find())
        if finding.ids and repair and check.repairable:
            for batch in batches(finding.ids, batch_size):
                finding.repaired += check.repair(batch)
            finding.remaining = check.find()
        else:
            finding.remaining = list(finding.ids)
        findings.append(finding)
    return findings
