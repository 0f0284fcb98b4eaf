"""The editors' post form, with optimistic locking against lost updates.

The form carries the version of the post the editor opened. Saving checks it
against the stored row (locked for the rest of the admin's transaction) and
refuses a stale copy with who changed the post and when; the admin then
re-shows the form with the editor's text untouched. The UPDATE itself is
conditional on that version too (Post._do_update), so no path can overwrite
a newer save silently.
"""
from datetime import timezone as dt_timezone

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone

from .models import Post

CONFLICT_MESSAGE = (
    "{who} saved this post at {when} UTC, after you opened it, so your changes were NOT saved. "
    "They are still in the form below: open the post in another tab to see the current version, "
    "carry your changes over there, and save that copy."
)


class PostAdminForm(forms.ModelForm):
    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Post
        fields = ["title", "slug", "author", "tags", "excerpt", "body", "status", "published_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["loaded_version"].initial = self.instance.version
        if "author" in self.fields:
            self.fields["author"].queryset = get_user_model().objects.filter(is_staff=True).order_by("username")

    def clean(self):
        cleaned = super().clean()
        self.check_not_stale(cleaned.get("loaded_version"))
        self.check_schedule(cleaned)
        return cleaned

    def check_not_stale(self, loaded_version):
        if self.instance._state.adding:
            return
        current = (Post.objects.select_for_update(of=("self",)).filter(pk=self.instance.pk)
                   .values("version", "updated_at", "updated_by__username").first())
        if current is None:
            raise forms.ValidationError("This post was deleted while you were editing it; "
                                        "copy your text before leaving this page.", code="deleted")
        if loaded_version is None or loaded_version != current["version"]:
            raise forms.ValidationError(CONFLICT_MESSAGE.format(
                who=current["updated_by__username"] or "Someone",
                when=current["updated_at"].astimezone(dt_timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
            ), code="conflict")
        # The UPDATE is conditional on the version this editor read.
        self.instance.version = loaded_version

    def check_schedule(self, cleaned):
        if cleaned.get("status") != Post.Status.SCHEDULED:
            return
        when = cleaned.get("published_at")
        if when is None or when <= timezone.now():
            self.add_error("published_at", "A scheduled post needs a publication time in the future.")


class ScheduleForm(forms.Form):
    """The schedule action's intermediate page."""
    publish_at = forms.DateTimeField(
        label="Publish at (UTC)", input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def clean_publish_at(self):
        when = self.cleaned_data["publish_at"]
        if when <= timezone.now():
            raise forms.ValidationError("Choose a time in the future.")
        return when
