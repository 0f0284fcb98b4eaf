"""The answer to a write while the primary is down: 503, a clear message,
and the reader's text handed back so nothing they typed is lost."""
from django.template.loader import render_to_string
from django.http import HttpResponse

# Fields that are machinery, not the reader's words.
NOT_TEXT = ("csrfmiddlewaretoken", "form_token", "website", "next", "_save", "_continue")
RETRY_AFTER_SECONDS = 15


def kept_fields(request):
    return [(name, value) for name, value in request.POST.items()
            if name not in NOT_TEXT and not name.startswith("_") and value.strip()]


def response(request):
    html = render_to_string("routing/read_only.html", {"fields": kept_fields(request)}, request=None)
    reply = HttpResponse(html, status=503)
    reply["Retry-After"] = str(RETRY_AFTER_SECONDS)
    reply["Cache-Control"] = "no-store"
    return reply
