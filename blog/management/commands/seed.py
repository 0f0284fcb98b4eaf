"""Demo content: `python manage.py seed --posts N`.

Realistic authors, tags, posts (varied lengths, code blocks, a few images
served by the site) and comments, inserted in bulk with a progress bar.
Rendering Markdown is the slow part, so a pool of bodies is rendered once
and shared; 10,000 posts take a few seconds. Denormalised columns
(comment counts, latest-post references) are computed as it goes, and the
page cache is told about everything that changed.
"""
import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify
from tqdm import tqdm

from blog import cache_tags, demo_content, publishing, rendering
from blog.models import AuthorProfile, Comment, Post, Tag
from cache import invalidate

BATCH = 1000
BODY_POOL = 160
COMMENT_WEIGHTS = [30, 20, 15, 12, 8, 6, 4, 3, 2]  # how many posts get 0, 1, 2 ... comments
Status = Post.Status


class Command(BaseCommand):
    help = "Create demo authors, tags, posts and comments (in bulk, with a progress bar)."

    def add_arguments(self, parser):
        parser.add_argument("--posts", type=int, default=100)
        parser.add_argument("--random-seed", type=int, default=2026)

    def handle(self, *args, posts, random_seed, **options):
        rng = random.Random(random_seed + Post.objects.count())
        authors = ensure_authors()
        tags = ensure_tags()
        bodies = render_body_pool(rng, size=min(BODY_POOL, max(posts // 3, 10)))
        comment_bodies = [(body, rendering.render_comment(body)) for body in demo_content.COMMENT_BODIES]
        slugs = set(Post.objects.values_list("slug", flat=True))
        now = timezone.now()
        with tqdm(total=posts, unit="post", desc="seeding", disable=options["verbosity"] == 0) as progress:
            for start in range(0, posts, BATCH):
                count = min(BATCH, posts - start)
                with transaction.atomic():
                    batch = [make_post(rng, authors, bodies, slugs, now) for _ in range(count)]
                    Post.objects.bulk_create(batch)
                    add_tags(rng, batch, tags)
                    add_comments(rng, batch, comment_bodies, now)
                progress.update(count)
        finish(tags, authors)
        self.stdout.write(f"seeded {posts} posts ({Post.objects.published().count()} published in all)")


def ensure_authors():
    User = get_user_model()
    authors = []
    for username, name, bio in demo_content.AUTHORS:
        first, _, last = name.partition(" ")
        user, created = User.objects.get_or_create(username=username, defaults={
            "first_name": first, "last_name": last, "email": f"{username}@example.com", "is_staff": True})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        AuthorProfile.objects.get_or_create(user=user, defaults={"display_name": name, "bio": bio})
        authors.append(user)
    return authors


def ensure_tags():
    return [Tag.objects.get_or_create(slug=slugify(name), defaults={"name": name, "description": about})[0]
            for name, about in demo_content.TAGS]


def render_body_pool(rng, size):
    """(markdown, html, text, minutes) for a pool of distinct bodies."""
    pool = []
    for _ in range(size):
        source = write_body(rng)
        html = rendering.render_post(source)
        text = rendering.plain_text(html)
        pool.append((source, html, text, rendering.reading_minutes(text)))
    return pool


def write_body(rng):
    """A post in Markdown: an intro, then sections with lists, code, quotes,
    images; no sentence is used twice in one post."""
    sentences = rng.sample(demo_content.SENTENCES, len(demo_content.SENTENCES))

    def paragraph(low=2, high=4):
        return " ".join(sentences.pop() for _ in range(min(rng.randint(low, high), len(sentences)))) or "Fin."

    parts = [paragraph(3, 4)]
    for heading in rng.sample(demo_content.SECTION_HEADINGS, rng.randint(1, 4)):
        parts.append(f"## {heading}")
        parts.extend(paragraph() for _ in range(rng.randint(1, 2)))
        roll = rng.random()
        if roll < 0.35:
            language, code = rng.choice(demo_content.CODE_BLOCKS)
            parts.append(f"```{language}\n{code}```")
        elif roll < 0.5:
            parts.append("\n".join(f"- {item}" for item in rng.sample(demo_content.LIST_ITEMS, 3)))
        elif roll < 0.58:
            filename, alt = rng.choice(demo_content.IMAGES)
            parts.append(f"![{alt}]({demo_content.image_url(filename)})")
        elif roll < 0.65:
            parts.append(f"> {rng.choice(demo_content.QUOTES)}")
    return "\n\n".join(parts) + "\n"


def write_title(rng):
    thing = rng.choice(demo_content.THINGS)
    return rng.choice(demo_content.TITLE_PATTERNS).format(thing=thing, thing_cap=thing[0].upper() + thing[1:])


def unique_slug(title, slugs):
    base = slugify(title)[:180]
    slug, number = base, 2
    while slug in slugs:
        slug, number = f"{base}-{number}", number + 1
    slugs.add(slug)
    return slug


def make_post(rng, authors, bodies, slugs, now):
    source, html, text, minutes = rng.choice(bodies)
    title = write_title(rng)
    roll = rng.random()
    if roll < 0.03:
        status, published_at = Status.SCHEDULED, now + timedelta(hours=rng.randint(1, 240))
    elif roll < 0.08:
        status, published_at = Status.DRAFT, None
    else:
        status, published_at = Status.PUBLISHED, now - timedelta(seconds=rng.randint(60, 3 * 365 * 86400))
    excerpt = rendering.excerpt_of(text, rng.randint(25, 45))
    return Post(title=title, slug=unique_slug(title, slugs), author=rng.choice(authors), body=source,
                body_html=html, body_text=text, reading_minutes=minutes, excerpt=excerpt, summary=excerpt,
                status=status,
                published_at=published_at, updated_by=None)


def add_tags(rng, batch, tags):
    through = Post.tags.through
    rows = [through(post_id=post.pk, tag_id=tag.pk)
            for post in batch for tag in rng.sample(tags, rng.randint(1, 4))]
    through.objects.bulk_create(rows)


def add_comments(rng, batch, comment_bodies, now):
    rows, counts = [], {}
    for post in batch:
        if post.status != Status.PUBLISHED:
            continue
        how_many = rng.choices(range(len(COMMENT_WEIGHTS)), COMMENT_WEIGHTS)[0]
        for name in rng.sample(COMMENTER_NAMES, how_many):  # nobody talks to themselves
            body, html = rng.choice(comment_bodies)
            status = rng.choices([Comment.Status.VISIBLE, Comment.Status.HELD, Comment.Status.HIDDEN],
                                 [95, 3, 2])[0]
            age = (now - post.published_at).total_seconds()
            rows.append(Comment(post_id=post.pk, name=name, body=body, body_html=html,
                                status=status, created_at=post.published_at + timedelta(seconds=rng.random() * age)))
            counts[post.pk] = counts.get(post.pk, 0) + (status == Comment.Status.VISIBLE)
    Comment.objects.bulk_create(rows, batch_size=2000)
    set_comment_counts(counts)


def set_comment_counts(counts):
    if not counts:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE blog_post p SET comment_count = v.n FROM unnest(%s::bigint[], %s::int[]) AS v(id, n) "
            "WHERE p.id = v.id", [list(counts), list(counts.values())])


def finish(tags, authors):
    """Latest-post references, planner statistics, cache invalidation."""
    with transaction.atomic():
        publishing.refresh_latest_posts(tag_ids=[t.pk for t in tags], author_ids=[a.pk for a in authors])
        months = Post.objects.published().dates("published_at", "month")
        invalidate(cache_tags.HOME, cache_tags.FEED, cache_tags.SITEMAP, cache_tags.SEARCH,
                   *(cache_tags.tag(t.slug) for t in tags), *(cache_tags.author(a.pk) for a in authors),
                   *(cache_tags.archive_month(m.year, m.month) for m in months),
                   *{cache_tags.archive_year(m.year) for m in months})
    # Fresh visibility maps let lists use index-only scans on deep pages at
    # once (VACUUM cannot run inside a transaction: then statistics only).
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
    with connection.cursor() as cursor:
        for table in ("blog_post", "blog_post_tags", "blog_comment", "blog_tag", "blog_authorprofile"):
            cursor.execute(f"{command} {table}")


COMMENTER_NAMES = [
    "Ada", "Bruno K.", "Chen Wei", "Dana", "Elif Y.", "Femi", "Greta", "Hugo M.", "Ines", "Jamal",
    "Kasia", "Luis R.", "Mei", "Nils", "Olu", "Priya S.", "Quentin", "Rosa", "Stefan", "Tariq",
]
