"""Which representation of a page a client gets: gzip or identity, from its
Accept-Encoding header with q-values (RFC 9110 §12.5.3), the same rule on a
cache hit and on a render.

Coding names are case-insensitive (`GZIP` is gzip; `x-gzip` too); `*`
stands for every coding not listed; `q=0` means "not acceptable". gzip is
sent when it is acceptable and not less preferred than identity (when the
client states a preference for identity at all). Without
the header, identity (the RFC would allow anything; some clients that send
nothing cannot decode gzip). Parsed once per distinct header value, in a
table bounded in size (the values browsers send are few).
"""
import re

GZIP, IDENTITY = True, False
ELEMENT = re.compile(r"^\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*(?:;\s*q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)\s*)?$")
REMEMBERED_VALUES = 256
MAX_REMEMBERED_LENGTH = 256

_decided = {}


def wants_gzip(header):
    """True when the gzip representation is the one to send."""
    if not header:
        return IDENTITY
    found = _decided.get(header)
    if found is None:
        found = decide(header)
        if len(header) <= MAX_REMEMBERED_LENGTH and len(_decided) < REMEMBERED_VALUES:
            _decided[header] = found
    return found


def decide(header):
    weights = {}
    for element in header.split(","):
        match = ELEMENT.match(element)
        if match is None:
            continue  # malformed: as if not listed
        coding = match.group(1).lower()
        coding = "gzip" if coding == "x-gzip" else coding
        weights[coding] = float(match.group(2)) if match.group(2) is not None else 1.0
    anything = weights.get("*")
    gzip = weights.get("gzip", anything if anything is not None else 0.0)
    identity = weights.get("identity", anything)  # unlisted: acceptable, no preference stated
    return GZIP if gzip > 0 and (identity is None or gzip >= identity) else IDENTITY
