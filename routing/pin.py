"""The read-your-writes pin: a signed, short-lived cookie carrying the WAL
position (LSN) the session must read at or past.

Value: `<lsn hex>.<issued>.<mac>` (routing/signed.py). The router and the
page cache's fast path read it through the same `verified_pin`: a forged,
malformed or expired pin is no pin, everywhere.
"""
from . import conf
from .signed import Signer

SIGNER = Signer("routing.pin")
MAX_LSN_HEX_DIGITS = 16  # an LSN is 64 bits


def verified_pin(value):
    """(LSN, seconds since the pin was set) of a genuine, unexpired pin
    cookie value; (0, 0.0) for anything else."""
    found = SIGNER.unsign(value, max_age=conf.pin_max_age_cached()) if value else None
    if found is None:
        return 0, 0.0
    payload, age = found
    if len(payload) > MAX_LSN_HEX_DIGITS or not payload.isalnum():
        return 0, 0.0
    try:
        return int(payload, 16), age
    except ValueError:
        return 0, 0.0


def read_pin_with_age(request):
    """(LSN, age) of the request's pin cookie; (0, 0.0) if absent, forged or expired."""
    return verified_pin(request.COOKIES.get(conf.PIN_COOKIE))


def read_pin(request):
    return read_pin_with_age(request)[0]


def set_pin(response, lsn):
    response.set_cookie(
        conf.PIN_COOKIE,
        SIGNER.sign(f"{lsn:x}"),
        max_age=conf.pin_max_age(),
        httponly=True,
        samesite="Lax",
        secure=conf.secure_cookies(),
    )


def clear_pin(response):
    response.delete_cookie(conf.PIN_COOKIE, samesite="Lax")
