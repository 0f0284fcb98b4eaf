"""Tags and authors' profiles in the admin. Renames invalidate what shows
them whatever path changes them (blog/signals.py)."""
from django.contrib import admin

from blog.models import AuthorProfile, Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "latest_post"]
    list_select_related = ["latest_post"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["latest_post"]
    # Saving and deleting invalidate the pages showing the tag (blog/signals.py).


@admin.register(AuthorProfile)
class AuthorProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "display_name", "latest_post"]
    list_select_related = ["user", "latest_post"]
    search_fields = ["user__username", "display_name"]
    readonly_fields = ["latest_post"]
    raw_id_fields = ["user"]
    # Saving invalidates the pages showing the author's name (blog/signals.py).
