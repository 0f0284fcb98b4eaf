"""What a request's cookies say about its session, for code that runs
before Django (the page cache's fast path): the pin's LSN and whether an
editor is logged in, each checked by its signature.

    facts = session_facts(environ.get("HTTP_COOKIE"))
    facts.signed_in, facts.pin_lsn

Cheap for readers: the Cookie header is parsed only when it names the pin
or the login marker (csrftoken, analytics and unknown cookies change nothing).
"""
from typing import NamedTuple

from django.http.cookie import parse_cookie

from .conf import LOGIN_MARKER_COOKIE, PIN_COOKIE
from .login_marker import signed_in
from .pin import verified_pin

PIN_NAMED, MARKER_NAMED = f"{PIN_COOKIE}=", f"{LOGIN_MARKER_COOKIE}="


class SessionFacts(NamedTuple):
    pin_lsn: int = 0
    signed_in: bool = False


ANONYMOUS = SessionFacts()


def session_facts(cookie_header):
    if not cookie_header or (PIN_NAMED not in cookie_header and MARKER_NAMED not in cookie_header):
        return ANONYMOUS
    jar = parse_cookie(cookie_header)
    if signed_in(jar):
        return SessionFacts(signed_in=True)
    return SessionFacts(pin_lsn=verified_pin(jar.get(PIN_COOKIE))[0])
