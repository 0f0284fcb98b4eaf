"""The readers' comment form (no CSRF token: see comment_guard.py)."""
from django import forms

from . import comment_guard, conf

HONEYPOT_FIELD = "website"


class CommentForm(forms.Form):
    name = forms.CharField(max_length=conf.COMMENT_NAME_MAX_LENGTH, strip=True)
    email = forms.EmailField(required=False, help_text="Optional, never shown.")
    body = forms.CharField(label="Comment", min_length=2, max_length=conf.COMMENT_BODY_MAX_LENGTH,
                           widget=forms.Textarea(attrs={"rows": 6}), strip=True)
    # Hidden from people by CSS (and labelled "leave empty" for screen
    # readers); naive bots fill every field they find.
    website = forms.CharField(required=False, label="Leave this field empty")
    form_token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, slug, **kwargs):
        self.slug = slug
        super().__init__(*args, **kwargs)

    def clean_website(self):
        if self.cleaned_data.get("website"):
            raise forms.ValidationError("This field must stay empty; please clear it and send again.",
                                        code="honeypot")
        return ""

    def clean_form_token(self):
        if not comment_guard.token_is_valid(self.cleaned_data.get("form_token"), self.slug):
            raise forms.ValidationError(
                "This form has expired. Your text is kept below: send it again.", code="expired")
        return self.cleaned_data["form_token"]

    @property
    def caught_by_honeypot(self):
        return any(error.code == "honeypot" for error in self.errors.as_data().get(HONEYPOT_FIELD, []))
