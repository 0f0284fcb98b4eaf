"""POST /posts/<slug>/comments/: a reader's comment, no JavaScript needed.

Checks, cheapest first and before any database query: size, same origin,
the form (page token, honeypot, lengths), the per-address rate limit. Then
one transaction saves the comment and bumps the post's count. Every refusal
re-shows the form with the reader's text kept; success is a 303 to the
comment (or, under moderation, to a notice that it awaits approval).
"""
import logging

from django.db import DatabaseError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from routing import is_primary_unavailable, readonly

from . import comment_guard, comments, conf, ratelimit
from .forms import CommentForm
from .models import Post
from .views import uncached

logger = logging.getLogger(__name__)

READ_ONLY_RETRY_SECONDS = 30


class HttpResponseSeeOther(HttpResponseRedirect):
    status_code = 303


def refuse(request, slug, form, status, message=None, retry_after=None):
    """The comment form again, with the reader's input and what went wrong."""
    response = uncached(render(request, "blog/comment_form_page.html", {
        "slug": slug, "form": form, "message": message, "status": status,
        "comment_token": comment_guard.form_token(slug),
    }, status=status))
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


@csrf_exempt  # cached pages carry no per-user token; comment_guard explains the defence
@require_POST
def post_comment(request, slug):
    if int(request.META.get("CONTENT_LENGTH") or 0) > conf.COMMENT_MAX_REQUEST_BYTES:
        return refuse(request, slug, CommentForm(slug=slug), 413, "That comment is far too long.")
    if not comment_guard.same_origin(request):
        return refuse(request, slug, CommentForm(slug=slug), 403,
                      "This form must be sent from this site's own page.")
    form = CommentForm(request.POST, slug=slug)
    if not form.is_valid():
        return refuse(request, slug, form, 400)
    decision = ratelimit.check("comment", ratelimit.client_address(request), conf.comment_rate_limit())
    if not decision.allowed:
        return refuse(request, slug, form, 429, "You are commenting too fast: please wait a little "
                      "and send again (your text is kept).", retry_after=decision.retry_after)
    try:
        comment = save_comment(request, slug, form.cleaned_data)
    except DatabaseError as error:
        if not is_primary_unavailable(error):
            raise
        logger.warning("comment not saved, the primary is unavailable: %s", error)
        readonly.write_refused.send(sender=post_comment, request=request)  # ops: one Sentry event per outage
        return refuse(request, slug, form, 503, "The site is read-only for a moment, so your comment "
                      "was not saved. Your text is kept below: please send it again in a minute.",
                      retry_after=READ_ONLY_RETRY_SECONDS)
    post_url = reverse("blog:post", args=[slug])
    if comment.status == comment.Status.HELD:
        return HttpResponseSeeOther(f"{post_url}?comment=held#comments")
    return HttpResponseSeeOther(f"{post_url}#comment-{comment.pk}")


def save_comment(request, slug, data):
    post = Post.objects.published().only("pk", "slug").filter(slug=slug).first()
    if post is None:
        raise Http404("No such post")
    return comments.add_comment(
        post, name=data["name"], email=data["email"], body=data["body"],
        ip_address=ratelimit.client_ip(request),
        moderated=conf.comment_moderation(),
    )
