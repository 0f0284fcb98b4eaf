"""The HTTP rules the page cache applies the same way on a hit and on a
render: content negotiation (RFC 9110 §12.5.3) and conditional requests
(RFC 9110 §13.2.2). Pure rules; tests/cache/test_representation.py drives
them through the WSGI stack."""
import gzip

import pytest

from cache.conditional import NOT_MODIFIED, PRECONDITION_FAILED, precondition_status
from cache.encoding import wants_gzip
from cache.entry import PageCacheEntry
from cache.representation import answer

ETAG = '"abc-gz"'
LAST_MODIFIED = "Tue, 01 Dec 2026 10:00:00 GMT"
EARLIER, LATER = "Tue, 01 Dec 2026 09:00:00 GMT", "Tue, 01 Dec 2026 11:00:00 GMT"


@pytest.mark.parametrize("header, gzip", [
    (None, False), ("", False), ("gzip", True), ("GZIP", True), ("x-gzip", True), ("gzip, deflate, br", True),
    ("gzip;q=0", False), ("gzip; q=0.000", False), ("*", True), ("*;q=0", False), ("identity", False),
    ("br", False), ("gzip;q=0.5, identity", False), ("gzip;q=0.5, identity;q=0.4", True),
    ("gzip;q=1.0", True), ("gzip;q=2", False), ("gzip;q=\\xff", False), ("*;q=0.1, identity;q=0", True),
    ("deflate, *;q=0", False), (" gzip ; q=0.8 ", True),
])
def test_accept_encoding_is_read_with_q_values_and_case_insensitive_names(header, gzip):
    """Check the negotiation rule on the shapes real clients (and hostile ones) send."""
    assert wants_gzip(header) is gzip


def conditions(**headers):
    environ = {f"HTTP_{name.upper()}": value for name, value in headers.items()}
    return environ.get


@pytest.mark.parametrize("headers, status", [
    ({}, None),
    ({"if_none_match": ETAG}, NOT_MODIFIED),
    ({"if_none_match": 'W/"abc-gz"'}, NOT_MODIFIED),          # weak comparison
    ({"if_none_match": '"other", "abc-gz"'}, NOT_MODIFIED),
    ({"if_none_match": "*"}, NOT_MODIFIED),
    ({"if_none_match": '"other"'}, None),
    ({"if_match": '"other"'}, PRECONDITION_FAILED),
    ({"if_match": ETAG}, None),
    ({"if_match": 'W/"abc-gz"'}, PRECONDITION_FAILED),        # strong comparison
    ({"if_match": "*"}, None),
    ({"if_modified_since": LAST_MODIFIED}, NOT_MODIFIED),
    ({"if_modified_since": LATER}, NOT_MODIFIED),
    ({"if_modified_since": EARLIER}, None),
    ({"if_modified_since": "not a date"}, None),
    ({"if_none_match": '"other"', "if_modified_since": LATER}, None),   # If-None-Match wins
    ({"if_unmodified_since": EARLIER}, PRECONDITION_FAILED),
    ({"if_unmodified_since": LATER}, None),
    ({"if_match": ETAG, "if_unmodified_since": EARLIER}, None),        # If-Match wins
    ({"if_match": '"other"', "if_none_match": ETAG}, PRECONDITION_FAILED),
    ({"if_none_match": '"' + "x" * 5000 + '"'}, None),
])
def test_preconditions_follow_the_rfc_order(headers, status):
    """Check RFC 9110 §13.2.2's precedence on a GET of a current representation."""
    assert precondition_status(conditions(**headers), ETAG, LAST_MODIFIED) == status


def stored_page():
    return PageCacheEntry(status=200, headers=[("Content-Type", "text/html"), ("Last-Modified", LAST_MODIFIED)],
                          gzip_body=gzip.compress(b"<p>page</p>"), etag="abc")


@pytest.mark.parametrize("headers, status", [
    ({}, 200),
    ({"if_none_match": '"abc-gz"', "accept_encoding": "gzip"}, NOT_MODIFIED),
    ({"if_none_match": '"abc"'}, NOT_MODIFIED),
    ({"if_none_match": '"abc-gz"'}, 200),       # the gzip tag does not name the identity body
    ({"if_match": '"other"'}, PRECONDITION_FAILED),
    ({"if_modified_since": LATER}, NOT_MODIFIED),
    ({"if_unmodified_since": EARLIER}, PRECONDITION_FAILED),
])
def test_a_stored_page_is_answered_by_the_same_rules(headers, status):
    """Check that `answer` (every hit's path) reaches the precondition rules
    for each conditional header on its own, with the representation's tag."""
    assert answer(stored_page(), conditions(**headers))[0] == status


@pytest.mark.parametrize("accept_encoding, coding", [(None, None), ("gzip", "gzip"), ("gzip;q=0", None), ("br", None)])
def test_a_stored_page_is_sent_in_the_negotiated_coding(accept_encoding, coding):
    """Check that `answer` picks the representation the negotiation rule picks."""
    status, headers, body = answer(stored_page(), conditions(accept_encoding=accept_encoding))
    assert dict(headers).get("Content-Encoding") == coding
    assert (gzip.decompress(body) if coding else body) == b"<p>page</p>"


def test_without_last_modified_date_conditions_are_ignored():
    """Check that If-Modified-Since / If-Unmodified-Since mean nothing for a page with no date."""
    assert precondition_status(conditions(if_modified_since=LATER), ETAG, None) is None
    assert precondition_status(conditions(if_unmodified_since=EARLIER), ETAG, None) is None
