"""Comment counts stay exact under concurrency, through the real gunicorn
over HTTP: many readers post at the same instant, each as a browser
without JavaScript would (its own cookie jar, the form found in the page,
Origin and Referer set)."""
import threading
from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, Request, build_opener

import pytest

from blog.models import Comment, Post
from tests.fixtures.html_forms import comment_form
from tests.fixtures import cluster
from tests.fixtures.factories import PostFactory

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

WRITERS = 24


class KeepRedirects(HTTPRedirectHandler):
    """Report a 303 as it is instead of following it."""

    def redirect_request(self, *args, **kwargs):
        return None


def comment_as_a_browser(base_url, slug, number, barrier):
    """GET the page, fill its form, wait for everyone, POST; the status."""
    opener = build_opener(HTTPCookieProcessor(CookieJar()), KeepRedirects)
    page_url = f"{base_url}/posts/{slug}/"
    with opener.open(page_url, timeout=30) as page:
        action, fields = comment_form(page.read().decode())
    fields.update(name=f"Reader {number}", body=f"Comment number {number}, sent with everyone else.")
    request = Request(f"{base_url}{action}", data=urlencode(fields).encode(),
                      headers={"Origin": base_url, "Referer": page_url})
    barrier.wait(timeout=60)
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, response.headers.get("Location")
    except HTTPError as answer:
        return answer.code, answer.headers.get("Location")


def test_concurrent_commenters_over_http_leave_an_exact_count(gunicorn_server):
    """Check that 24 readers commenting at once through gunicorn leave comment_count == number of 303s."""
    post = PostFactory()
    cluster.wait_all_replayed()
    barrier = threading.Barrier(WRITERS)
    results = [None] * WRITERS

    def run(number):
        results[number] = comment_as_a_browser(gunicorn_server, post.slug, number, barrier)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    statuses = [status for status, _ in filter(None, results)]
    see_other = statuses.count(303)
    assert see_other == WRITERS, (statuses, gunicorn_server.read_log()[-5000:])
    assert all(location.startswith(f"/posts/{post.slug}/#comment-") for _, location in results)
    assert Post.objects.get(pk=post.pk).comment_count == see_other
    assert Comment.objects.filter(post=post).visible().count() == see_other
