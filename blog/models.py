"""Posts, tags, comments and authors' profiles.

Denormalised on purpose, so that every reader's page is a few cheap queries:
a post's Markdown is rendered once on save (`body_html`), its visible
comments are counted in `comment_count` (changed only with F() updates, see
`comments.py`), its search vector is a stored generated column with a GIN
index, and each tag and author points at its latest published post
(`publishing.refresh_latest_posts`). `version` guards editors against lost
updates: every UPDATE of a post is conditional on the version it was read at.
"""
from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.urls import reverse
from django.utils import timezone

from . import rendering
from .querysets import NEWEST_FIRST, SEARCH_CONFIG, CommentQuerySet, PostQuerySet


class EditConflict(Exception):
    """Someone saved the post after this copy of it was read."""


def save_without(instance, kept_fields, **kwargs):
    """Save an existing row without writing `kept_fields` (denormalised columns
    that only their own code changes), so a stale copy never writes them back."""
    if instance._state.adding or kwargs.get("update_fields") is not None:
        return kwargs
    fields = [f.name for f in instance._meta.concrete_fields
              if not f.primary_key and f.name not in kept_fields and not f.generated]
    return {**kwargs, "update_fields": fields}


class Tag(models.Model):
    name = models.CharField(max_length=60, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    description = models.TextField(blank=True)
    latest_post = models.ForeignKey("Post", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("blog:tag", args=[self.slug])

    def save(self, *args, **kwargs):
        super().save(*args, **save_without(self, {"latest_post"}, **kwargs))


class AuthorProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="author_profile")
    display_name = models.CharField(max_length=100, blank=True)
    bio = models.TextField(blank=True)
    latest_post = models.ForeignKey("Post", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", editable=False)

    def __str__(self):
        return self.name

    @property
    def name(self):
        return self.display_name or self.user.get_full_name() or self.user.get_username()

    def save(self, *args, **kwargs):
        super().save(*args, **save_without(self, {"latest_post"}, **kwargs))


class Post(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        PUBLISHED = "published", "Published"

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="posts")
    excerpt = models.TextField(blank=True, help_text="Shown in lists and feeds; empty: the first words.")
    body = models.TextField(help_text="Markdown. Fenced code blocks (```python) are highlighted.")
    body_html = models.TextField(editable=False, default="")
    body_text = models.TextField(editable=False, default="")
    reading_minutes = models.PositiveSmallIntegerField(editable=False, default=1)
    # What lists and feeds show: the excerpt, else the body's first words.
    summary = models.TextField(editable=False, default="")
    tags = models.ManyToManyField(Tag, related_name="posts", blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True, help_text="For a scheduled post: when it goes out.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, editable=False,
                                   on_delete=models.SET_NULL, related_name="+")
    version = models.PositiveIntegerField(default=1, editable=False)
    comment_count = models.PositiveIntegerField(default=0, editable=False)
    search_vector = models.GeneratedField(
        expression=SearchVector("title", weight="A", config=SEARCH_CONFIG)
        + SearchVector("excerpt", weight="B", config=SEARCH_CONFIG)
        + SearchVector("body_text", weight="C", config=SEARCH_CONFIG),
        output_field=SearchVectorField(), db_persist=True,
    )

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = list(NEWEST_FIRST)
        permissions = [("publish_post", "Can publish, schedule and unpublish posts")]
        indexes = [
            GinIndex(fields=["search_vector"], name="post_search_gin"),
            # Lists read ids from these (index-only scans), even on deep pages.
            models.Index(models.F("published_at").desc(), models.F("id").desc(),
                         name="post_published_idx", condition=models.Q(status="published")),
            models.Index("author", models.F("published_at").desc(), models.F("id").desc(),
                         name="post_author_published_idx", condition=models.Q(status="published")),
            models.Index("published_at", name="post_scheduled_idx", condition=models.Q(status="scheduled")),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("blog:post", args=[self.slug])

    @property
    def is_published(self):
        return self.status == self.Status.PUBLISHED

    def render(self):
        """Render the Markdown once, here, rather than on every page view."""
        self.body_html = rendering.render_post(self.body)
        self.body_text = rendering.plain_text(self.body_html)
        self.reading_minutes = rendering.reading_minutes(self.body_text)
        self.summary = self.excerpt.strip() or rendering.excerpt_of(self.body_text)

    def save(self, *args, **kwargs):
        if kwargs.get("update_fields") is None or {"body", "excerpt"} & set(kwargs["update_fields"]):
            self.render()
        super().save(*args, **kwargs)

    def _do_update(self, base_qs, using, pk_val, values, update_fields, forced_update):
        """UPDATE ... WHERE version = <the version this copy was read at>,
        bumping it; comment_count is never written from a copy (F() only)."""
        read_version = self.version
        values = [(field, model, read_version + 1 if field.name == "version" else value)
                  for field, model, value in values if field.name != "comment_count"]
        updated = super()._do_update(base_qs.filter(version=read_version), using, pk_val,
                                     values, update_fields, forced_update)
        if updated:
            self.version = read_version + 1
        elif base_qs.filter(pk=pk_val).exists():
            raise EditConflict(f"post {pk_val} changed since version {read_version} was read")
        return updated


class Comment(models.Model):
    class Status(models.TextChoices):
        VISIBLE = "visible", "Visible"
        HELD = "held", "Awaiting moderation"
        HIDDEN = "hidden", "Hidden"

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    name = models.CharField(max_length=80)
    email = models.EmailField(blank=True, help_text="Never shown.")
    body = models.TextField()
    body_html = models.TextField(editable=False, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.VISIBLE)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index("post", "status", "created_at", name="comment_post_status_idx")]

    def __str__(self):
        return f"{self.name} on {self.post_id}"

    def render(self):
        self.body_html = rendering.render_comment(self.body)

    def save(self, *args, **kwargs):
        self.render()
        super().save(*args, **kwargs)
