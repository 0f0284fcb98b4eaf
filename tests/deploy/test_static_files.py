"""Static files through the real WSGI stack: brotli, gzip or identity as the
client accepts, each encoding with its own strong ETag, and conditional
requests answered against the copy the client would get (blog/static_files.py).

They need the files collected (`make test` runs collectstatic into
STATIC_ROOT before the suite, with the Brotli package installed)."""
import gzip
import json
from pathlib import Path

import brotli
import pytest
from django.conf import settings
from django.templatetags.static import static
from whitenoise.middleware import WhiteNoiseMiddleware

from tests.fixtures.wsgi import request

STYLESHEET = "blog/site.css"
BROTLI_AND_GZIP = "gzip, deflate, br"


@pytest.fixture(scope="module")
def app():
    """The WSGI application as gunicorn serves it (static files never reach the database)."""
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.exists():
        pytest.fail(f"no collected static files in {settings.STATIC_ROOT}: run "
                    "`python manage.py collectstatic` first (make test does)")
    if not (Path(settings.STATIC_ROOT) / json.loads(manifest.read_text())["paths"][STYLESHEET]).with_suffix(
            ".css.br").exists():
        pytest.fail("static files were collected without brotli copies: install the Brotli package "
                    "(requirements.txt) and run collectstatic again")
    from wsgi import application

    return application


@pytest.fixture(scope="module")
def url():
    return static(STYLESHEET)


def fetch(app, url, accept_encoding="", **headers):
    extra = {"Accept-Encoding": accept_encoding} if accept_encoding else {}
    return request(app, url, headers={**extra, **headers})


def decoded(response):
    encoding = response.headers.get("Content-Encoding")
    return {"br": brotli.decompress, "gzip": gzip.decompress}.get(encoding, bytes)(response.body)


def test_each_client_gets_the_smallest_encoding_it_accepts(app, url):
    """Check that brotli goes to a client accepting it, gzip to one accepting
    only gzip, identity to one accepting neither, all the same stylesheet."""
    responses = {name: fetch(app, url, accepts) for name, accepts in
                 (("br", BROTLI_AND_GZIP), ("gzip", "gzip"), ("identity", ""))}
    assert {name: r.headers.get("Content-Encoding", "identity") for name, r in responses.items()} == \
        {"br": "br", "gzip": "gzip", "identity": "identity"}
    assert len(responses["br"].body) < len(responses["gzip"].body) < len(responses["identity"].body)
    assert decoded(responses["br"]) == decoded(responses["gzip"]) == responses["identity"].body
    for response in responses.values():
        assert response.status == 200 and response.headers["Vary"] == "Accept-Encoding"
        assert "immutable" in response.headers["Cache-Control"]


def test_stock_whitenoise_gives_every_encoding_one_etag():
    """Check the hazard: WhiteNoise's own StaticFile tags its brotli, gzip and
    identity copies alike, although their bytes differ."""
    stock = WhiteNoiseMiddleware(get_response=None)
    static_file = stock.files[static(STYLESHEET)]
    tags = {accepts: dict(static_file.get_response("GET", {"HTTP_ACCEPT_ENCODING": accepts}).headers)["ETag"]
            for accepts in (BROTLI_AND_GZIP, "gzip", "")}
    assert len(set(tags.values())) == 1


def test_each_encoding_has_its_own_strong_etag(app, url):
    """Check that the three copies carry three different strong ETags, the same each time."""
    tags = [fetch(app, url, accepts).headers["ETag"] for accepts in (BROTLI_AND_GZIP, "gzip", "")]
    assert len(set(tags)) == 3
    assert not any(tag.startswith("W/") for tag in tags)
    assert tags == [fetch(app, url, accepts).headers["ETag"] for accepts in (BROTLI_AND_GZIP, "gzip", "")]


def test_if_none_match_is_answered_for_the_copy_the_client_gets(app, url):
    """Check 304 when the client's tag is the one of the copy it would get
    (also as a weak tag, in a list, or `*`), and the full copy when it holds another."""
    etag = {accepts: fetch(app, url, accepts).headers["ETag"] for accepts in (BROTLI_AND_GZIP, "gzip", "")}
    for accepts, tag in etag.items():
        for asked in (tag, f"W/{tag}", f'"other", {tag}', "*"):
            revalidated = fetch(app, url, accepts, **{"If-None-Match": asked})
            assert (revalidated.status, revalidated.body) == (304, b""), (accepts, asked)
            assert revalidated.headers["ETag"] == tag and revalidated.headers["Vary"] == "Accept-Encoding"
    holds_gzip = fetch(app, url, BROTLI_AND_GZIP, **{"If-None-Match": etag["gzip"]})
    assert (holds_gzip.status, holds_gzip.headers["Content-Encoding"]) == (200, "br")
    holds_brotli = fetch(app, url, "", **{"If-None-Match": etag[BROTLI_AND_GZIP]})
    assert holds_brotli.status == 200 and "Content-Encoding" not in holds_brotli.headers


def test_head_and_ranges_still_work(app, url):
    """Check that HEAD answers the headers without a body, and a Range the bytes asked for."""
    full = fetch(app, url)
    head = request(app, url, method="HEAD")
    assert (head.status, head.body, head.headers["ETag"]) == (200, b"", full.headers["ETag"])
    part = fetch(app, url, Range="bytes=0-9")
    assert (part.status, part.body) == (206, full.body[:10])


@pytest.mark.parametrize("accept, sent", [("br;q=0, gzip", "gzip"), ("BR", "br"), ("GZIP", "gzip"),
                                          ("gzip;q=0, br;q=0", "identity"), ("gzip, br;q=0.5", "gzip"),
                                          ("*", "br"), ("identity, gzip;q=0.5", "identity")])
def test_static_files_negotiate_like_pages_q_values_and_case_included(app, url, accept, sent):
    """Check that static files use the page cache's Accept-Encoding rule:
    `br;q=0` gets no brotli, `GZIP` in capitals gets gzip (WhiteNoise's own
    substring match got both wrong)."""
    assert fetch(app, url, accept).headers.get("Content-Encoding", "identity") == sent


def test_static_preconditions_follow_the_rfc_order(app, url):
    """Check If-Match (412 on an unknown tag) and If-None-Match: * (304) on a static file."""
    assert fetch(app, url, If_Match='"no-such-tag"').status == 412
    assert fetch(app, url, If_None_Match="*").status == 304
