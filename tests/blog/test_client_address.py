"""Who the client is behind proxies: X-Forwarded-For, read from the right past
the proxies trusted in FORWARDED_ALLOW_IPS (the variable gunicorn reads),
keys the comment and search rate limits and is what a comment records; from
any other peer the header is ignored."""
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory, override_settings

from blog.models import Comment
from blog.ratelimit import client_address, client_ip
from tests.fixtures.html_forms import comment_form
from tests.fixtures.factories import PostFactory
from tests.fixtures.http_reader import Reader
from tests.fixtures.wsgi import application_on, request


def seen_as(peer, forwarded_for=None, trusted=("127.0.0.1",)):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for is not None else {}
    with override_settings(FORWARDED_ALLOW_IPS=list(trusted)):
        return client_address(RequestFactory().get("/", REMOTE_ADDR=peer, **headers))


@pytest.mark.parametrize("peer, forwarded_for, trusted, client", [
    # No proxy, or a peer that is not a trusted proxy: its own address, whatever it claims.
    ("198.51.100.7", None, ["127.0.0.1"], "198.51.100.7"),
    ("198.51.100.7", "203.0.113.9", ["127.0.0.1"], "198.51.100.7"),
    # The trusted proxy appended the address it saw; what the client sent before is ignored.
    ("127.0.0.1", "203.0.113.9", ["127.0.0.1"], "203.0.113.9"),
    ("127.0.0.1", "6.6.6.6, 203.0.113.9", ["127.0.0.1"], "203.0.113.9"),
    # Two trusted proxies (a network) in a row: the first hop neither of them is.
    ("10.0.0.2", "6.6.6.6, 203.0.113.9, 10.0.0.7", ["10.0.0.0/8"], "203.0.113.9"),
    # A trusted proxy with no header: the proxy itself.
    ("127.0.0.1", None, ["127.0.0.1"], "127.0.0.1"),
    # A hop that is not an address: nothing left of it can be believed.
    ("127.0.0.1", "203.0.113.9, not-an-address", ["127.0.0.1"], "127.0.0.1"),
    # Ports and IPv6, as some proxies write them.
    ("127.0.0.1", "203.0.113.9:51234", ["127.0.0.1"], "203.0.113.9"),
    ("::1", "[2001:db8::7]:443", ["::1"], "2001:db8::7"),
    ("127.0.0.1", "2001:db8::7", ["127.0.0.1"], "2001:db8::7"),
    # `*` trusts every hop: the leftmost is taken (only behind proxies that overwrite the header).
    ("198.51.100.7", "203.0.113.9, 10.0.0.7", ["*"], "203.0.113.9"),
])
def test_the_client_is_the_first_hop_from_the_right_no_trusted_proxy_wrote(peer, forwarded_for, trusted, client):
    """Check how the client's address is read from REMOTE_ADDR and X-Forwarded-For."""
    assert seen_as(peer, forwarded_for, trusted) == client


def test_a_peer_without_an_ip_address_is_trusted_as_gunicorn_trusts_it():
    """Check that behind a proxy on a Unix socket (REMOTE_ADDR empty) the header names the client."""
    assert seen_as("", "203.0.113.9") == "203.0.113.9"
    assert seen_as("", None) == "unknown"
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="")) is None


def test_a_wrong_forwarded_allow_ips_is_a_configuration_error():
    """Check that a value gunicorn would refuse (host bits set, not an address) is refused here too."""
    for wrong in (["192.168.1.1/24"], ["proxy.internal"]):
        with pytest.raises(ImproperlyConfigured, match="FORWARDED_ALLOW_IPS"):
            seen_as("127.0.0.1", "203.0.113.9", trusted=wrong)


# --- through the WSGI application: rate limits and what a comment records ----

@pytest.fixture
def app(replicated_db, redis_client):
    with application_on("urls") as application:
        yield application


def comment_via_proxy(app, post, client):
    """A reader's comment arriving through the proxy on 127.0.0.1 (the WSGI
    fixture's peer), which says the reader is `client`."""
    page = request(app, f"/posts/{post.slug}/", headers={"X-Forwarded-For": client})
    action, fields = comment_form(page.text)
    fields.update(name="Ada", body=f"Sent from {client}")
    return request(app, action, method="POST", data=urlencode(fields).encode(), headers={
        "Content-Type": "application/x-www-form-urlencoded", "Origin": "http://127.0.0.1",
        "Referer": f"http://127.0.0.1/posts/{post.slug}/", "X-Forwarded-For": client})


@pytest.mark.django_db(transaction=True, databases="__all__")
@override_settings(COMMENT_RATE_LIMIT="1/min")
def test_without_trusting_the_proxy_every_reader_behind_it_shares_one_bucket(app):
    """Check the hazard: when the proxy is not in FORWARDED_ALLOW_IPS, every
    reader behind it is the proxy: one rate-limit bucket, its address recorded."""
    post = PostFactory()
    with override_settings(FORWARDED_ALLOW_IPS=["192.0.2.1"]):
        assert comment_via_proxy(app, post, "203.0.113.1").status == 303
        assert comment_via_proxy(app, post, "203.0.113.2").status == 429
    assert list(Comment.objects.values_list("ip_address", flat=True)) == ["127.0.0.1"]


@pytest.mark.django_db(transaction=True, databases="__all__")
@override_settings(COMMENT_RATE_LIMIT="1/min")
def test_behind_a_trusted_proxy_each_reader_has_its_own_bucket_and_address(app):
    """Check that behind the trusted proxy, readers are limited one by one and
    each comment records its reader's address, not the proxy's."""
    post = PostFactory()
    assert comment_via_proxy(app, post, "203.0.113.1").status == 303
    assert comment_via_proxy(app, post, "203.0.113.2").status == 303
    assert comment_via_proxy(app, post, "203.0.113.1").status == 429
    assert sorted(Comment.objects.values_list("ip_address", flat=True)) == ["203.0.113.1", "203.0.113.2"]


# --- through gunicorn: a forged header from an untrusted peer ---------------

@pytest.mark.django_db(transaction=True, databases="__all__")
def test_through_gunicorn_a_forged_header_from_an_untrusted_peer_is_ignored(gunicorn_server, replicated_db):
    """Check with the real server (FORWARDED_ALLOW_IPS at its default, 127.0.0.1)
    that a comment through the proxy records the reader's address, while one
    sent straight from 127.0.0.2 with a forged X-Forwarded-For records 127.0.0.2."""
    post = PostFactory()
    proxied = Reader(gunicorn_server, address="203.0.113.9").comment(post.slug, "through the proxy")
    forged = Reader(gunicorn_server, address="203.0.113.10", source="127.0.0.2").comment(post.slug, "forged")
    assert proxied.status == forged.status == 303
    recorded = dict(Comment.objects.values_list("body", "ip_address"))
    assert recorded == {"through the proxy": "203.0.113.9", "forged": "127.0.0.2"}
