"""Comment moderation: approve, hide, delete; counts stay exact (comments.py)."""
from django.contrib import admin, messages
from django.template.defaultfilters import truncatechars

from blog import comments
from blog.models import Comment


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["name", "excerpt", "post", "status", "created_at", "ip_address"]
    list_filter = ["status", "created_at"]
    list_select_related = ["post"]
    search_fields = ["name", "email", "body", "post__title"]
    readonly_fields = ["post", "name", "email", "body", "status", "created_at", "ip_address"]
    fields = readonly_fields
    actions = ["approve", "hide"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    list_per_page = 50

    def has_add_permission(self, request):
        return False  # readers write comments, on the site

    def get_urls(self):
        # No "add" page at all (rather than one that answers 403).
        return [url for url in super().get_urls() if url.name != "blog_comment_add"]

    @admin.display(description="Comment")
    def excerpt(self, comment):
        return truncatechars(comment.body, 80)

    @admin.action(description="Approve (show) selected comments", permissions=["change"])
    def approve(self, request, queryset):
        changed = comments.set_status(list(queryset.values_list("pk", flat=True)), Comment.Status.VISIBLE)
        self.message_user(request, f"{changed} comment(s) now shown.", messages.SUCCESS)

    @admin.action(description="Hide selected comments", permissions=["change"])
    def hide(self, request, queryset):
        changed = comments.set_status(list(queryset.values_list("pk", flat=True)), Comment.Status.HIDDEN)
        self.message_user(request, f"{changed} comment(s) hidden.", messages.SUCCESS)

    def delete_model(self, request, obj):
        comments.delete_comments([obj.pk])

    def delete_queryset(self, request, queryset):
        comments.delete_comments(list(queryset.values_list("pk", flat=True)))
