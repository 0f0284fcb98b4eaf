"""The pin cookie: signed, short-lived, readable by the cache without Django."""
import time

from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from routing.pin import lsn_in_cookie, read_pin, read_pin_with_age, set_pin


def request_with(cookie_value):
    request = RequestFactory().get("/")
    request.COOKIES["pin"] = cookie_value
    return request


def issued_cookie(lsn):
    response = HttpResponse()
    set_pin(response, lsn)
    return response.cookies["pin"]


def test_a_pin_round_trips_its_lsn():
    """Check that a pin the site issued is read back as the same LSN."""
    cookie = issued_cookie(0x16B374D848)
    assert read_pin(request_with(cookie.value)) == 0x16B374D848
    assert lsn_in_cookie(cookie.value) == 0x16B374D848


def test_the_pin_cookie_is_httponly_lax_and_lives_pin_max_age():
    """Check the cookie's attributes."""
    cookie = issued_cookie(42)
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == 30


@override_settings(HTTPS=True)
def test_the_pin_cookie_is_secure_behind_https():
    """Check that HTTPS=on makes the pin cookie Secure."""
    assert issued_cookie(42)["secure"] is True


def test_a_forged_pin_is_ignored():
    """Check that a pin whose signature does not match reads as no pin."""
    value = issued_cookie(42).value
    lsn, rest = value.split(":", 1)
    assert read_pin(request_with("FFFF/FFFF:" + rest)) == 0
    assert read_pin(request_with("garbage")) == 0


def test_an_expired_pin_is_ignored(monkeypatch):
    """Check that a pin older than PIN_MAX_AGE reads as no pin."""
    value = issued_cookie(42).value
    later = time.time() + 31
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    assert read_pin(request_with(value)) == 0


def test_a_pin_tells_how_old_it_is(monkeypatch):
    """Check that the cookie's signed timestamp gives the pin's age."""
    value = issued_cookie(42).value
    later = time.time() + 7
    monkeypatch.setattr("routing.pin.time.time", lambda: later)
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    lsn, age = read_pin_with_age(request_with(value))
    assert lsn == 42 and 6 <= age <= 8
