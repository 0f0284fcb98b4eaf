"""The answer to a write while the primary is down: 503, a clear message,
and the writer's text handed back so nothing they typed is lost (only
their words: never a password or a token)."""
from django.dispatch import Signal
from django.http import HttpResponse
from django.template.loader import render_to_string

# Sent for every write refused because the primary is down (kwargs: request).
# Ops turns it into one Sentry event per outage, not one per request.
write_refused = Signal()

# The writer's own words, handed back: the text fields of the readers'
# comment form (name, body) and of the editors' post form. An allowlist, so
# that a login's password, a token, or a field nobody thought of when it was
# added is never echoed into a page.
KEPT_FIELDS = ("name", "body", "title", "slug", "excerpt")
RETRY_AFTER_SECONDS = 15


def kept_fields(request):
    return [(name, request.POST[name]) for name in KEPT_FIELDS if request.POST.get(name, "").strip()]


def response(request):
    write_refused.send(sender=None, request=request)
    html = render_to_string("routing/read_only.html", {"fields": kept_fields(request)}, request=None)
    reply = HttpResponse(html, status=503)
    reply["Retry-After"] = str(RETRY_AFTER_SECONDS)
    reply["Cache-Control"] = "no-store"
    return reply
