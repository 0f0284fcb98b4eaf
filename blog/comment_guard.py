"""What makes the comment endpoint safe although the form sits in pages that
a shared cache serves to everyone (so it cannot carry a per-user CSRF token):

* Same origin: the POST must come with an `Origin` (or, failing that, a
  `Referer`) naming this site. Browsers always send Origin on cross-site
  POSTs and cannot be made to forge it; `Referrer-Policy: same-origin` keeps
  the Referer for our own pages. This is the actual defence against CSRF.
* A page-level form token: a signature over the post's slug and an issue
  time (rounded to an hour, so it is the same for every reader of a page).
  It proves the form came from one of our pages not long ago and expires
  well after any cached copy of the page can still be served.

The honeypot field and the per-address rate limit (views) deal with spam.
"""
import time
from urllib.parse import urlsplit

from django.core import signing

from . import conf

SALT = "blog.comment-form"
# Clocks of several web hosts may disagree a little.
CLOCK_SKEW = 300


def form_token(slug, now=None):
    now = time.time() if now is None else now
    issued = int(now // conf.COMMENT_TOKEN_WINDOW * conf.COMMENT_TOKEN_WINDOW)
    return signing.Signer(salt=SALT).sign(f"{slug}:{issued}")


def token_is_valid(token, slug, now=None):
    """True for a genuine token of this post, issued within its lifetime."""
    now = time.time() if now is None else now
    try:
        token_slug, issued = signing.Signer(salt=SALT).unsign(token or "").rsplit(":", 1)
        issued = int(issued)
    except (signing.BadSignature, ValueError):
        return False
    return token_slug == slug and now - conf.comment_token_max_age() <= issued <= now + CLOCK_SKEW


def origin_of(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else None


def same_origin(request):
    """The request's Origin, else its Referer, is this site (or a trusted origin)."""
    expected = {f"{request.scheme}://{request.get_host()}".lower(),
                *(origin.lower() for origin in conf.trusted_origins())}
    origin = request.META.get("HTTP_ORIGIN")
    if origin:
        return origin.lower() in expected
    referer = request.META.get("HTTP_REFERER")
    return bool(referer) and origin_of(referer) in expected
