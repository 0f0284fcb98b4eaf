"""Tags and authors' profiles in the admin; renames invalidate what shows them
(tags here, profiles in blog/signals.py, whatever path changes them)."""
from django.contrib import admin
from django.db import router

from blog import cache_tags
from blog.models import AuthorProfile, Tag
from cache import invalidate


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "latest_post"]
    list_select_related = ["latest_post"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["latest_post"]

    def save_model(self, request, obj, form, change):
        old_slug = (Tag.objects.using(router.db_for_write(Tag)).filter(pk=obj.pk)
                    .values_list("slug", flat=True).first() if change else None)
        super().save_model(request, obj, form, change)
        # Every page showing the tag carries tag:<slug>; the sitemap lists tags.
        invalidate(*{cache_tags.tag(slug) for slug in (old_slug, obj.slug) if slug}, cache_tags.SITEMAP)

    def delete_model(self, request, obj):
        invalidate(cache_tags.tag(obj.slug), cache_tags.SITEMAP)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        invalidate(*(cache_tags.tag(slug) for slug in queryset.values_list("slug", flat=True)), cache_tags.SITEMAP)
        super().delete_queryset(request, queryset)


@admin.register(AuthorProfile)
class AuthorProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "display_name", "latest_post"]
    list_select_related = ["user", "latest_post"]
    search_fields = ["user__username", "display_name"]
    readonly_fields = ["latest_post"]
    raw_id_fields = ["user"]
    # Saving invalidates the pages showing the author's name (blog/signals.py).
