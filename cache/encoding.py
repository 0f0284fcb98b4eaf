"""Which representation a client gets, from its Accept-Encoding header with
q-values (RFC 9110 §12.5.3): the same rule on a cache hit, on a render, and
for static files.

Coding names are case-insensitive (`GZIP` is gzip; `x-gzip` too); `*`
stands for every coding not listed; `q=0` means "not acceptable". A coding
is chosen when it is acceptable and not less preferred than identity (when
the client states a preference for identity at all); among several, the
one preferred, ties going to the order offered (smallest first). Without
the header, identity (the RFC would allow anything; some clients that send
nothing cannot decode gzip). Decisions are remembered per distinct header
value, in a table bounded in size (the values browsers send are few).
"""
import re

ELEMENT = re.compile(r"^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*(?:;\s*q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)\s*)?$")
ALIASES = {"x-gzip": "gzip"}
REMEMBERED_VALUES = 256
MAX_REMEMBERED_LENGTH = 256

GZIP_ONLY = ("gzip",)  # what the page cache offers besides identity

_decided = {}


def wants_gzip(header):
    """True when a page's gzip representation is the one to send."""
    return preferred_coding(header, GZIP_ONLY) == "gzip"


def preferred_coding(header, offered):
    """The coding among `offered` (best first, e.g. ("br", "gzip")) to send,
    or None for identity."""
    if not header:
        return None
    key = (header, offered)
    if key in _decided:
        return _decided[key]
    chosen = decide(weights_of(header), offered)
    if len(header) <= MAX_REMEMBERED_LENGTH and len(_decided) < REMEMBERED_VALUES:
        _decided[key] = chosen
    return chosen


def weights_of(header):
    weights = {}
    for element in header.split(","):
        match = ELEMENT.match(element)
        if match is None:
            continue  # malformed: as if not listed
        coding = match.group(1).lower()
        weights[ALIASES.get(coding, coding)] = float(match.group(2)) if match.group(2) is not None else 1.0
    return weights


def decide(weights, offered):
    anything = weights.get("*")
    identity = weights.get("identity", anything)  # unlisted: acceptable, no preference stated
    best, best_weight = None, 0.0
    for coding in offered:
        weight = weights.get(coding, anything if anything is not None else 0.0)
        if weight > best_weight and (identity is None or weight >= identity):
            best, best_weight = coding, weight
    return best
