"""The answer to a write while the primary is down: 503, a clear message,
and the reader's text handed back so nothing they typed is lost."""
from django.dispatch import Signal
from django.http import HttpResponse
from django.template.loader import render_to_string

# Sent for every write refused because the primary is down (kwargs: request).
# Ops turns it into one Sentry event per outage, not one per request.
write_refused = Signal()

# Fields that are machinery, not the reader's words.
NOT_TEXT = ("csrfmiddlewaretoken", "form_token", "website", "next", "_save", "_continue")
RETRY_AFTER_SECONDS = 15


def kept_fields(request):
    return [(name, value) for name, value in request.POST.items()
            if name not in NOT_TEXT and not name.startswith("_") and value.strip()]


def response(request):
    write_refused.send(sender=None, request=request)
    html = render_to_string("routing/read_only.html", {"fields": kept_fields(request)}, request=None)
    reply = HttpResponse(html, status=503)
    reply["Retry-After"] = str(RETRY_AFTER_SECONDS)
    reply["Cache-Control"] = "no-store"
    return reply
