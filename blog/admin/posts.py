"""Posts in the admin: every change goes through `publishing`, so latest-post
references and the page cache follow; saves are optimistically locked."""
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from blog import publishing
from blog.editing import PostAdminForm, ScheduleForm
from blog.models import Post, Tag


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    form = PostAdminForm
    list_display = ["title", "status", "author", "published_at", "updated_at", "comment_count", "preview_link"]
    list_filter = ["status", "tags", "author", "published_at"]
    list_select_related = ["author"]
    search_fields = ["title", "slug", "excerpt", "body"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["tags"]
    date_hierarchy = "published_at"
    readonly_fields = ["comment_count", "updated_at", "updated_by", "version"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "author", "tags", "excerpt", "body"]}),
        ("Publishing", {"fields": ["status", "published_at", "loaded_version"]}),
        ("Record", {"fields": ["comment_count", "updated_at", "updated_by", "version"], "classes": ["collapse"]}),
    ]
    actions = ["publish_selected", "unpublish_selected", "schedule_selected"]
    show_full_result_count = False  # no COUNT(*) over a big table on every page
    list_per_page = 50

    def has_publish_permission(self, request):
        return request.user.has_perm("blog.publish_post")

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not self.has_publish_permission(request):
            fields += ["status", "published_at"]
        return fields

    def get_changeform_initial_data(self, request):
        return {"author": request.user.pk, **super().get_changeform_initial_data(request)}

    @admin.display(description="Preview")
    def preview_link(self, post):
        return format_html('<a href="{}">Preview</a>', reverse("admin:blog_post_preview", args=[post.pk]))

    # --- saving: remember what readers saw, then apply the change's effects ---
    def save_model(self, request, obj, form, change):
        stored = Post.objects.using(publishing.write_db()).filter(pk=obj.pk).first() if change else None
        obj._state_before = publishing.state_of(stored) if stored else None
        obj.updated_by = request.user
        if obj.status == Post.Status.PUBLISHED and obj.published_at is None:
            obj.published_at = timezone.now()
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        post = form.instance
        publishing.post_changed(getattr(post, "_state_before", None), publishing.state_of(post))

    # Deletes go through the model's delete signals (blog/signals.py).

    # --- actions ---
    @admin.action(description="Publish selected posts now", permissions=["publish"])
    def publish_selected(self, request, queryset):
        done = [publishing.publish(post, by=request.user) for post in queryset]
        self.message_user(request, f"Published {len(done)} post(s).", messages.SUCCESS)

    @admin.action(description="Unpublish selected posts (back to draft)", permissions=["publish"])
    def unpublish_selected(self, request, queryset):
        done = [publishing.unpublish(post, by=request.user) for post in queryset]
        self.message_user(request, f"Unpublished {len(done)} post(s).", messages.SUCCESS)

    @admin.action(description="Schedule selected posts…", permissions=["publish"])
    def schedule_selected(self, request, queryset):
        form = ScheduleForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            when = form.cleaned_data["publish_at"]
            for post in queryset:
                publishing.schedule(post, when, by=request.user)
            self.message_user(request, f"Scheduled {queryset.count()} post(s) for {when:%Y-%m-%d %H:%M} UTC.",
                              messages.SUCCESS)
            return None
        return TemplateResponse(request, "admin/blog/post/schedule.html", {
            **self.admin_site.each_context(request), "title": "Schedule posts", "form": form,
            "posts": queryset, "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        })

    # --- preview: staff only, never cached (admin_view adds never_cache) ---
    def get_urls(self):
        preview = path("<int:object_id>/preview/", self.admin_site.admin_view(self.preview_view),
                       name="blog_post_preview")
        return [preview, *super().get_urls()]

    def preview_view(self, request, object_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        post = get_object_or_404(
            Post.objects.select_related("author__author_profile").prefetch_related(
                Prefetch("tags", queryset=Tag.objects.order_by("name"))), pk=object_id)
        response = render(request, "blog/post_detail.html", {
            "post": post, "tags": list(post.tags.all()), "comments": [], "preview": True})
        response["Cache-Control"] = "private, no-cache, no-store, must-revalidate, max-age=0"
        return response
