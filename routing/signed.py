"""Short signed cookie values that the page cache's fast path can verify in
a couple of microseconds (Django's TimestampSigner takes tens: it derives
its HMAC key again on every call).

    signer = Signer("routing.pin")
    value = signer.sign("1a2b")                  # "1a2b.<issued>.<mac>"
    signer.unsign(value, max_age=30)             # ("1a2b", age in s) or None

The MAC is keyed BLAKE2b over the payload and the issue time, its key derived
once per process from SECRET_KEY (and each of SECRET_KEY_FALLBACKS, so a key
rotation does not log anyone out) and the salt. Payloads are short ASCII
strings of letters, digits and dashes; values of any other shape are refused before hashing,
so a forged cookie of any size costs one regular-expression match.
"""
import hashlib
import hmac
import re
import time

from django.conf import settings
from django.utils.crypto import salted_hmac

MAC_BYTES = 16
MAX_VALUE_LENGTH = 128
CLOCK_SKEW_SECONDS = 5  # several web hosts' clocks may disagree a little
SHAPE = re.compile(rf"^([0-9a-z-]{{1,64}})\.([0-9a-f]{{1,10}})\.([0-9a-f]{{{2 * MAC_BYTES}}})$")


_signers = []


class Signer:
    def __init__(self, salt):
        self.salt = salt
        self._keys = None
        _signers.append(self)

    def _current_keys(self):
        """One derived key per secret, derived once: reading Django's settings
        costs a few tenths of a microsecond per attribute, a third of a
        verification (forget_keys() when the secrets change: tests)."""
        if self._keys is None:
            self._keys = tuple(salted_hmac(self.salt, "signed-cookie-key", secret=s).digest()
                               for s in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS))
        return self._keys

    @staticmethod
    def _mac(key, message):
        return hashlib.blake2b(message, key=key, digest_size=MAC_BYTES).hexdigest()

    def sign(self, payload, bound_to="", now=None):
        """`payload.<issued>.<mac>`; `bound_to` (another cookie's value) is
        covered by the MAC without being carried: it must be the same when verified."""
        issued = f"{int(time.time() if now is None else now):x}"
        return f"{payload}.{issued}.{self._mac(self._current_keys()[0], _message(payload, issued, bound_to))}"

    def unsign(self, value, max_age, bound_to="", now=None):
        """(payload, age in seconds) of a genuine value not older than `max_age`; else None."""
        match = SHAPE.match(value) if value and len(value) <= MAX_VALUE_LENGTH else None
        if match is None or len(bound_to) > MAX_VALUE_LENGTH:
            return None
        payload, issued, mac = match.groups()
        message = _message(payload, issued, bound_to)
        for key in self._current_keys():
            if hmac.compare_digest(self._mac(key, message), mac):
                break
        else:
            return None
        age = (time.time() if now is None else now) - int(issued, 16)
        if not -CLOCK_SKEW_SECONDS <= age <= max_age:
            return None
        return payload, max(0.0, age)


def _message(payload, issued, bound_to):
    return f"{payload}.{issued}.{bound_to}".encode()


def forget_keys(setting, **kwargs):
    """setting_changed receiver: derive the keys again from new secrets."""
    if setting in ("SECRET_KEY", "SECRET_KEY_FALLBACKS"):
        for signer in _signers:
            signer._keys = None
