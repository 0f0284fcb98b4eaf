"""Who is logged in, known before the session is loaded.

The router picks a request's server, and the page cache's fast path decides
whether to answer from Redis, before Django loads the session: neither can
ask `request.user`. A bare `sessionid` cookie proves nothing (anyone can send
one), so they trust only the login marker: a signed cookie bound to the
session key, which only this middleware issues, to a live session.

    MIDDLEWARE = [..., SessionMiddleware, ..., AuthenticationMiddleware,
                  "routing.login_marker.LoginMarkerMiddleware", ...]

    signed_in(cookies)   # True: a marker genuine for this session cookie

Once the session is loaded, each response puts the marker in step with it:
- a live session without a (valid) marker gets one: at login, after every
  `cycle_key()`, for sessions older than the marker; a GET of a reader's page
  is then redirected once to itself, so that it is served as an editor's
  (from the primary, never from the cache) rather than rendered as a reader's;
- a marker without a live session (logout, expiry, a password changed
  elsewhere, a flushed session store) is deleted, and that response is never
  stored (it sets a cookie).
The marker lives as long as the session cookie (SESSION_COOKIE_AGE).
"""
from django.conf import settings
from django.http import HttpResponseRedirect
from django.utils.cache import add_never_cache_headers

from . import conf
from .signed import Signer

SIGNER = Signer("routing.login-marker")
PAYLOAD = "editor"


def signed_in(cookies):
    """True when `cookies` (a dict) hold a genuine marker for their session cookie."""
    return marker_matches(cookies.get(conf.LOGIN_MARKER_COOKIE), cookies.get(settings.SESSION_COOKIE_NAME))


def marker_matches(marker, session_key):
    return bool(marker and session_key) and SIGNER.unsign(
        marker, max_age=settings.SESSION_COOKIE_AGE, bound_to=session_key) is not None


class LoginMarkerMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        cookies = request.COOKIES
        session = getattr(request, "session", None)
        involved = (conf.LOGIN_MARKER_COOKIE in cookies or settings.SESSION_COOKIE_NAME in cookies
                    or (session is not None and session.modified))
        if not involved or not hasattr(request, "user"):
            return response
        if request.user.is_authenticated and session.session_key:
            if not marker_matches(cookies.get(conf.LOGIN_MARKER_COOKIE), session.session_key):
                response = self.first_page_as_editor(request, response)
                set_marker(response, session.session_key)
        elif conf.LOGIN_MARKER_COOKIE in cookies:
            delete_marker(response)
        return response

    @staticmethod
    def first_page_as_editor(request, response):
        """A reader's page rendered for a logged-in session that had no
        marker: send the browser back for it, now with the marker."""
        if request.method not in ("GET", "HEAD") or not hasattr(request, "page_cache_params"):
            return response
        redirect = HttpResponseRedirect(request.get_full_path())
        add_never_cache_headers(redirect)
        return redirect


def set_marker(response, session_key):
    response.set_cookie(
        conf.LOGIN_MARKER_COOKIE, SIGNER.sign(PAYLOAD, bound_to=session_key),
        max_age=None if settings.SESSION_EXPIRE_AT_BROWSER_CLOSE else settings.SESSION_COOKIE_AGE,
        httponly=True, samesite="Lax", secure=conf.secure_cookies(),
    )


def delete_marker(response):
    response.delete_cookie(conf.LOGIN_MARKER_COOKIE, samesite="Lax")
