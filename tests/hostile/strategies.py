"""Hypothesis strategies for what a hostile client can send: paths, query
strings, cookies, headers and comment forms, as raw bytes.

They lean towards the shapes that have broken caches before: repeated and
blank parameters, `;` separators, percent-encoded and differently-cased
names, `+` and spaces, non-ASCII and invalid UTF-8, NUL bytes, overlong
values, forged signed cookies.
"""
from urllib.parse import quote_from_bytes

from hypothesis import strategies as st

NASTY_TEXT = st.sampled_from([
    "", " ", "+", "%", "%00", "%zz", "%C3%A9", "%FF", "\x00", "é", "日本", "\u202e", ";", "&", "=", "#",
    "a" * 300, "1", "2", "02", "-1", "0", "99999999999999999999", "²", "replica", "Replica ",
])
NAMES = st.sampled_from(["page", "q", "p", "comment", "Page", "PAGE", "p%61ge", "pa%67e", "utm_source",
                         "page ", " page", "page[]", "q;", "", "x"])
SEGMENTS = st.one_of(
    st.sampled_from(["python", "databases", "author0", "notes-on-replication-part-1", "2026", "03", "posts",
                     "tags", "..", ".", "%2e%2e", "%2F", "%00", "x%00", "%C3%28", "%FF%FE", "é", "A" * 2000]),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=20).map(lambda s: quote_from_bytes(s.encode())),
    st.binary(max_size=12).map(quote_from_bytes),
)
ROUTES = st.sampled_from([
    "/", "/posts/{}/", "/posts/{}/comments/", "/tags/{}/", "/authors/{}/", "/archive/{}/",
    "/archive/2026/{}/", "/search/", "/feed/", "/sitemap.xml", "/sitemap-{}.xml", "/robots.txt",
    "/{}", "/{}/{}/", "/admin/{}", "/healthz", "/readyz", "/static/{}",
])


@st.composite
def paths(draw):
    route = draw(ROUTES)
    while "{}" in route:
        route = route.replace("{}", draw(SEGMENTS), 1)
    return route.encode("latin-1", "replace")


@st.composite
def query_strings(draw, names=NAMES):
    pairs = draw(st.lists(st.tuples(names, st.one_of(NASTY_TEXT, st.text(max_size=12))), max_size=5))
    separator = draw(st.sampled_from(["&", "&", ";", "&&"]))
    parts = []
    for name, value in pairs:
        encoded = draw(st.sampled_from([quote_from_bytes(value.encode()), value.replace(" ", "+"), value]))
        parts.append(name if draw(st.booleans()) and not encoded else f"{name}={encoded}")
    return separator.join(parts).encode("utf-8", "surrogatepass")


COOKIE_VALUES = st.one_of(
    st.sampled_from(["", "x", "1a2b.0.00", "ff" * 20 + ".1." + "0" * 32, "FFFFFFFF/0", "f" * 3700,
                     "editor.0." + "a" * 32, "\x00", "é", '"quoted"']),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=40),
)


@st.composite
def cookie_headers(draw):
    names = st.sampled_from(["pin", "signedin", "sessionid", "csrftoken", "_ga", "x", "pin ", "PIN"])
    pairs = draw(st.lists(st.tuples(names, COOKIE_VALUES), max_size=4))
    return "; ".join(f"{name}={value}" for name, value in pairs).encode("latin-1", "replace")


HEADER_VALUES = st.one_of(
    st.sampled_from([b"", b"*", b"gzip", b"GZIP", b"gzip;q=0", b"br, gzip;q=0.5", b"\x00", b"\xff\xfe",
                     b'"abc"', b'W/"x", *', b"127.0.0.1, 10.0.0.1", b"http://127.0.0.1",
                     b"https://evil.example", b"x" * 5000]),
    st.binary(max_size=30).filter(lambda b: b"\r" not in b and b"\n" not in b),
)
HEADER_NAMES = st.sampled_from(["Accept-Encoding", "If-None-Match", "If-Modified-Since", "If-Match",
                                "X-Request-ID", "X-Forwarded-For", "X-Forwarded-Proto", "Referer", "Origin",
                                "User-Agent", "Accept", "Range", "Content-Type"])
HOSTS = st.sampled_from([b"127.0.0.1", b"localhost", b"LOCALHOST", b"127.0.0.1:80", b"evil.example",
                         b"127.0.0.1\x00", b"", b"[::1]", b"localhost:99999", None])


@st.composite
def requests(draw):
    from tests.hostile.raw_wsgi import RawRequest

    headers = dict(draw(st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=4)))
    cookies = draw(cookie_headers())
    if cookies:
        headers["Cookie"] = cookies
    return RawRequest(
        method=draw(st.sampled_from(["GET", "GET", "GET", "HEAD", "POST", "OPTIONS", "PUT", "DELETE"])),
        path=draw(paths()), query=draw(query_strings()), headers=headers, host=draw(HOSTS),
        body=draw(st.binary(max_size=64)),
    )


FORM_FIELDS = st.sampled_from(["name", "email", "body", "website", "form_token", "csrfmiddlewaretoken",
                               "password", "name[]", "", "body\x00"])


@st.composite
def comment_forms(draw):
    """A comment POST body: the real fields, with hostile values, or junk."""
    pairs = draw(st.lists(st.tuples(FORM_FIELDS, st.one_of(NASTY_TEXT, st.text(max_size=40))), max_size=6))
    body = "&".join(f"{quote_from_bytes(n.encode())}={quote_from_bytes(v.encode('utf-8', 'surrogatepass'))}"
                    for n, v in pairs).encode()
    if draw(st.booleans()):
        body += draw(st.sampled_from([b"&body=%FF%FE", b"&name=%00", b"\xff\xfe", b"&" * 2000]))
    return body
