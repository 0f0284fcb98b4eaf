"""Cache keys are built from exactly what the view reads: a request whose
declared parameters are repeated, blank or overlong is answered but never
stored, and the view cannot read a parameter the key leaves out."""
import pytest

from tests.cache.conftest import page_keys
from tests.fixtures.wsgi import request

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


@pytest.mark.parametrize("query", ["page=2&page=3", "page=3&page=2", "page=", "page=2&page=",
                                   "page=" + "9" * 201])
def test_a_repeated_blank_or_overlong_declared_parameter_is_answered_but_never_stored(
        app, redis_client, query):
    """Check the poisoning shape of the issue: `?page=2&page=<x>` once stored the
    page the view rendered for <x> under the key of `?page=2`."""
    request(app, "/c/groups/?page=2")
    response = request(app, f"/c/groups/?{query}")
    assert response.headers["X-Cache"] == "BYPASS"
    assert page_keys(redis_client) == ["pc:dev:0:http://127.0.0.1/c/groups/?page=2"]
    clean = request(app, "/c/groups/?page=2")
    assert clean.headers["X-Cache"] == "HIT" and b"page 2:" in clean.body


def test_values_are_not_normalised_so_different_inputs_never_share_a_key(app, redis_client):
    """Check that a value the view would read differently (spaces, case) is its own key."""
    for query in ("page=2", "page=%202", "page=2%20", "Page=2"):
        request(app, f"/c/groups/?{query}")
    assert request(app, "/c/groups/?page=%202").body.startswith(b"<html><body>page  2:")
    assert len(page_keys(redis_client)) == 4  # `Page` is not declared: it is the bare page


def test_the_view_sees_only_its_declared_parameters(app):
    """Check that an undeclared parameter (which does not split the key) is
    invisible to the view, so it cannot change what is stored."""
    from django.test import RequestFactory

    from tests.cache import probe_urls

    seen = {}

    def spy(request):
        seen.update(request.GET.lists())
        return probe_urls.describe(request, [])

    from cache import cacheable
    view = cacheable(params=("page",))(spy)
    view(RequestFactory().get("/x/?page=2&utm_source=mail&q=evil"))
    assert seen == {"page": ["2"]}


def test_the_host_is_part_of_the_key_exactly_as_django_reads_it(app, redis_client, settings):
    """Check that `Host: LOCALHOST` and `Host: localhost` (pages carry absolute
    URLs built from it) never share an entry."""
    settings.ALLOWED_HOSTS = ["localhost"]
    request(app, "/c/groups/", host="localhost")
    request(app, "/c/groups/", host="LOCALHOST")
    assert sorted(page_keys(redis_client)) == ["pc:dev:0:http://LOCALHOST/c/groups/?",
                                                "pc:dev:0:http://localhost/c/groups/?"]


def test_a_request_without_a_host_header_is_not_stored(app, redis_client):
    """Check that the fast path does not guess a host (Django would build one
    from SERVER_NAME and the port)."""
    from tests.fixtures.wsgi import request as wsgi_request

    response = wsgi_request(app, "/c/groups/", headers={"Host": ""})
    assert response.headers["X-Cache"] == "BYPASS"
    assert page_keys(redis_client) == []


def test_the_paths_remembered_per_process_are_bounded_in_bytes():
    """Check that resolving junk paths cannot grow the table past its budget."""
    from cache.keys import BoundedMemo, resolve_declared

    table = BoundedMemo(64 * 1024, resolve_declared)
    for n in range(5000):
        table.get(f"/authors/{n:04d}{'x' * 900}/")
    assert table.size_bytes <= 64 * 1024
    assert table.get("/authors/someone/") is not None  # still resolves, remembered or not


def test_the_keys_remembered_per_process_are_bounded_and_hold_only_stored_requests():
    """Check that distinct stored requests cannot grow the table of keys past
    its budget, and that a request that is not stored (a host ALLOWED_HOSTS
    refuses) is never remembered, so junk cannot push the stored ones out."""
    from cache.keys import BoundedMemo, key_of, request_bytes

    table = BoundedMemo(64 * 1024, key_of, size=request_bytes, keep_none=False)
    for n in range(5000):
        assert table.get(("http", "127.0.0.1", "", f"/authors/{n:04d}{'x' * 900}/", "")) is not None
    assert table.size_bytes <= 64 * 1024
    before = table.size_bytes
    assert table.get(("http", "evil.example", "", "/authors/someone/", "")) is None
    assert table.size_bytes == before


def test_a_key_remembered_under_old_settings_is_forgotten_when_allowed_hosts_change(app, settings):
    """Check that the remembered key of a host follows ALLOWED_HOSTS: once
    the host is no longer allowed, its requests get no key."""
    from cache.keys import page_key

    environ = {"wsgi.url_scheme": "http", "HTTP_HOST": "127.0.0.1", "PATH_INFO": "/c/groups/", "QUERY_STRING": ""}
    assert page_key(environ) == "http://127.0.0.1/c/groups/?"
    settings.ALLOWED_HOSTS = ["localhost"]
    assert page_key(environ) is None


def test_the_keys_table_counts_what_its_entries_really_take():
    """Check the budget against the memory the entries really hold (traced
    by the interpreter), so that "1 MiB" means about that, not three times it."""
    import tracemalloc

    from cache.keys import BoundedMemo, key_of, request_bytes

    table = BoundedMemo(64 * 1024 * 1024, key_of, size=request_bytes, keep_none=False)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(2000):
            table.get(("http", "127.0.0.1", "", "/", f"junk={n}"))
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held <= 1.25 * table.size_bytes
