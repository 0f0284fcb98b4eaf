"""Template helpers: authors' names, machine-readable times, search snippets, absolute URLs."""
from django import template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from blog.querysets import MATCH_END, MATCH_START

register = template.Library()


@register.filter
def author_name(user):
    """The author's display name, without a query when the profile was joined."""
    try:
        profile = user.author_profile
    except user.__class__.author_profile.RelatedObjectDoesNotExist:
        profile = None
    if profile is not None and profile.display_name:
        return profile.display_name
    return user.get_full_name() or user.get_username()


@register.filter
def iso_datetime(value):
    """`value` as a `<time datetime>` or `article:*_time` wants it: ISO 8601 in
    the current time zone, to the second. (Django's `date:'c'` keeps the
    microseconds, and HTML allows at most three fractional digits.)"""
    if not value:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.isoformat(timespec="seconds")


@register.filter
def highlight(headline):
    """A search snippet: the text escaped, then matched words wrapped in <mark>."""
    text = escape(headline or "")
    return mark_safe(text.replace(MATCH_START, "<mark>").replace(MATCH_END, "</mark>"))


@register.simple_tag(takes_context=True)
def absolute_url(context, path):
    """`path` as an absolute URL on the host the reader asked for."""
    request = context.get("request")
    return request.build_absolute_uri(path) if request is not None else path
