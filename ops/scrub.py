"""What must never reach Sentry: commenters' email and IP addresses, the
rows a database error quotes, and anything that looks like a secret.
(Names and comments' words have no shape to recognise: ops/sentry.py keeps
them out by never sending request bodies or frames' local variables.)

Sentry's own scrubber (with `send_default_pii` off) removes well-known keys
such as cookies and `Authorization`; these hooks go further and walk the
whole event, because personal data also turns up in values: a comment form's
fields in a frame's local variables, an address in a log message that became
a breadcrumb, a password inside a database URL.

    before_send / before_send_transaction = scrub_event
    before_breadcrumb = scrub_breadcrumb
"""
import re
from functools import lru_cache

EMAIL_MARK, IP_MARK, SECRET_MARK = "[email]", "[ip]", "[Filtered]"

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
IPV4 = re.compile(rf"(?<![\d.]){_OCTET}(?:\.{_OCTET}){{3}}(?![\d.])")
_HEX = r"[0-9A-Fa-f]{1,4}"
# Full form, or compressed with "::" and at least one group (so "Foo::bar" in
# a C++-ish name or "07:15:00" in a time never matches).
IPV6 = re.compile(
    rf"(?<![0-9A-Fa-f:])(?:(?:{_HEX}:){{7}}{_HEX}|(?:{_HEX}(?::{_HEX})*)?::{_HEX}(?::{_HEX})*"
    rf"|{_HEX}(?::{_HEX})*::)(?![0-9A-Fa-f:])"
)
# postgres://user:password@host, redis://:password@host
URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/\s@]*:)[^@\s/]+@", re.IGNORECASE)
# password=..., token: ..., Bearer ...
INLINE_SECRET = re.compile(
    r"\b((?:password|passwd|secret|token|api[_-]?key|sentry_dsn|secret_key)\s*[=:]\s*)[^\s,;&'\"]+"
    r"|\b(bearer\s+)[A-Za-z0-9._~+/-]+=*",
    re.IGNORECASE,
)

# PostgreSQL's DETAIL holds the data of the row an error is about ("Failing
# row contains (12, Ada, ada@example.org, her whole comment...)", "Key
# (slug)=(...) already exists"): masked to the end of the text, since a
# value may itself span lines. The message before it says what went wrong.
DATABASE_DETAIL = re.compile(r"\bDETAIL:.*", re.DOTALL)

# Keys whose values are secrets whatever they look like.
SECRET_KEY = re.compile(
    r"password|passwd|(?:^|[_-])pass$|secret|token|api[_-]?key|authorization|cookie|session|csrf|signature"
    r"|private[_-]?key|credential|(?:^|[_-])dsn$|^pin$",
    re.IGNORECASE,
)
# Keys whose values are personal data.
EMAIL_KEY = re.compile(r"e-?mail", re.IGNORECASE)
IP_KEY = re.compile(r"ip_address|remote_addr|forwarded_for|forwarded-for|real[_-]ip|client_address",
                    re.IGNORECASE)

# Parts of an event that are the SDK's own description of itself, not data.
UNTOUCHED = ("modules", "sdk")
# Keys whose values are the SDK's ids, times and names, never anyone's data:
# skipping them keeps a traced request's scrub cheap (it has hundreds of spans).
STRUCTURAL_KEYS = frozenset({"event_id", "trace_id", "span_id", "parent_span_id", "timestamp",
                             "start_timestamp", "op", "origin", "same_process_as_parent", "thread.id"})


def scrub_text(text):
    """`text` with database rows, email and IP addresses and inline secrets
    masked (each pattern only tried when the text it needs is there: most
    strings are SQL, paths and names)."""
    if "DETAIL:" in text:
        text = DATABASE_DETAIL.sub(f"DETAIL: {SECRET_MARK}", text)
    if "@" in text:
        text = URL_PASSWORD.sub(rf"\1{SECRET_MARK}@", text)
        text = EMAIL.sub(EMAIL_MARK, text)
    if "." in text:
        text = IPV4.sub(IP_MARK, text)
    if ":" in text:
        text = IPV6.sub(IP_MARK, text)
    if "=" in text or ":" in text or " " in text:
        text = INLINE_SECRET.sub(lambda m: (m.group(1) or m.group(2)) + SECRET_MARK, text)
    return text


def masked_for_key(key):
    """What a value under `key` is replaced with, or None to scrub it as data."""
    if not isinstance(key, str):
        return None
    # Keys can come from clients (header and parameter names): only short ones
    # are remembered, so the cache stays a few hundred KiB whatever they send.
    return _masked_for_known_key(key) if len(key) <= 64 else _mask_for(key)


@lru_cache(maxsize=4096)  # the same few hundred keys come back in every event
def _masked_for_known_key(key):
    return _mask_for(key)


def _mask_for(key):
    if SECRET_KEY.search(key):
        return SECRET_MARK
    if EMAIL_KEY.search(key):
        return EMAIL_MARK
    if IP_KEY.search(key):
        return IP_MARK
    return None


def scrub(value):
    """A copy-free, in-place scrub of a JSON-like value; returns the value."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        for key, item in value.items():
            if key in STRUCTURAL_KEYS:
                continue
            mask = masked_for_key(key)
            if mask is not None and item not in (None, "", [], {}):
                value[key] = mask
            else:
                value[key] = scrub(item)
        return value
    if isinstance(value, list):
        for index, item in enumerate(value):
            value[index] = scrub(item)
        return value
    if isinstance(value, tuple):
        return tuple(scrub(item) for item in value)
    return value


def scrub_event(event, hint):
    """before_send and before_send_transaction: the event, scrubbed."""
    for key, value in event.items():
        if key not in UNTOUCHED:
            event[key] = scrub(value)
    return event


def scrub_breadcrumb(crumb, hint):
    """before_breadcrumb: breadcrumbs (log lines, SQL, Redis commands), scrubbed."""
    return scrub(crumb)
