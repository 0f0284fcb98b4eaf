"""The pin cookie: signed, short-lived, verified the same way by the router
and by the page cache's fast path."""
import time

import pytest
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from routing.pin import SIGNER, read_pin, read_pin_with_age, set_pin, verified_pin


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
    assert verified_pin(cookie.value)[0] == 0x16B374D848


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


@pytest.mark.parametrize("forge", [
    lambda value: "ffffffff" + value[value.index("."):],     # another LSN, same signature
    lambda value: value[:-1] + ("0" if value[-1] != "0" else "1"),
    lambda value: "garbage",
    lambda value: "FFFF/FFFF:1abc:forged",                  # the old format
    lambda value: "f" * 3700,
    lambda value: value + "\x00",
    lambda value: "",
])
def test_a_forged_pin_is_ignored(forge):
    """Check that a pin whose signature or shape does not check out reads as no pin."""
    assert verified_pin(forge(issued_cookie(42).value)) == (0, 0.0)


def test_a_pin_signed_with_another_key_is_ignored():
    """Check that only this site's SECRET_KEY (or a fallback) makes a pin genuine."""
    value = issued_cookie(42).value
    with override_settings(SECRET_KEY="another-key-entirely-" * 3):
        assert verified_pin(value) == (0, 0.0)
    with override_settings(SECRET_KEY="another-key-entirely-" * 3, SECRET_KEY_FALLBACKS=[
            __import__("django.conf").conf.settings.SECRET_KEY]):
        assert verified_pin(value)[0] == 42


def test_an_lsn_beyond_64_bits_is_refused():
    """Check that a pin can carry at most a 64-bit LSN, even when signed."""
    assert verified_pin(SIGNER.sign(f"{2 ** 64 - 1:x}"))[0] == 2 ** 64 - 1
    assert verified_pin(SIGNER.sign(f"{2 ** 64:x}")) == (0, 0.0)


def test_an_expired_pin_is_ignored(monkeypatch):
    """Check that a pin older than PIN_MAX_AGE reads as no pin."""
    value = issued_cookie(42).value
    later = time.time() + 31
    monkeypatch.setattr("routing.signed.time.time", lambda: later)
    assert read_pin(request_with(value)) == 0


def test_a_pin_tells_how_old_it_is(monkeypatch):
    """Check that the cookie's signed timestamp gives the pin's age."""
    value = issued_cookie(42).value
    later = time.time() + 7
    monkeypatch.setattr("routing.signed.time.time", lambda: later)
    lsn, age = read_pin_with_age(request_with(value))
    assert lsn == 42 and 6 <= age <= 8



@pytest.mark.parametrize(("pin_max_age", "refused"), [(10.3, True), (10.32, False)])
def test_the_system_check_refuses_a_pin_that_could_expire_before_a_replica_in_rotation_catches_up(
        pin_max_age, refused):
    """Check routing.E001: PIN_MAX_AGE must exceed the worst lag in rotation
    (10 s here) plus how old a process's view of the replicas can be (one
    0.25 s poll, and a quarter of one until a worker sharing it looks)."""
    from routing.checks import pin_outlives_lag

    with override_settings(PIN_MAX_AGE=pin_max_age, MAX_REPLICA_LAG_SECONDS=10, REPLICA_HEALTH_INTERVAL=0.25):
        errors = pin_outlives_lag(None)
    assert [error.id for error in errors] == (["routing.E001"] if refused else [])
