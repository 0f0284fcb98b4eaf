"""The read-your-writes pin: a signed, short-lived cookie carrying the WAL
position (LSN) the session must read at or past.

Value: `<lsn hex>:<timestamp>:<signature>` (Django's TimestampSigner), so the
page cache's fast path can read the LSN without Django, while the router
only trusts a pin whose signature and age check out.
"""
import time

from django.core import signing

from . import conf
from .lsn import format, parse

SALT = "routing.pin"


def read_pin(request):
    """The pin's LSN from the request cookie, or 0 if absent, forged or expired."""
    return read_pin_with_age(request)[0]


def read_pin_with_age(request):
    """(LSN, seconds since the pin was set) from the cookie; (0, 0) if absent, forged or expired."""
    value = request.COOKIES.get(conf.pin_cookie_name())
    if not value:
        return 0, 0.0
    try:
        lsn = parse(signing.TimestampSigner(salt=SALT).unsign(value, max_age=conf.pin_max_age()))
        signed_at = signing.b62_decode(value.rsplit(":", 2)[1])
    except (signing.BadSignature, ValueError, IndexError):
        return 0, 0.0
    return lsn, max(0.0, time.time() - signed_at)


def lsn_in_cookie(value):
    """The LSN part of a pin cookie, unverified (for the cache's fast path:
    a forged value can only make a request skip cached pages)."""
    try:
        return parse(value.split(":", 1)[0])
    except (ValueError, AttributeError):
        return 0


def set_pin(response, lsn):
    response.set_cookie(
        conf.pin_cookie_name(),
        signing.TimestampSigner(salt=SALT).sign(format(lsn)),
        max_age=conf.pin_max_age(),
        httponly=True,
        samesite="Lax",
        secure=conf.secure_cookies(),
    )


def clear_pin(response):
    response.delete_cookie(conf.pin_cookie_name(), samesite="Lax")
