"""The Permissions-Policy header as Chromium reads it: every capability the
site does not use is denied, on a page rendered now and on its cached copy,
and Chromium knows every name in it (an unknown one only earns a console
warning, which nobody would notice)."""
import pytest

from blog import permissions_policy
from tests.fixtures.factories import PostFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, databases="__all__")]

# Known to Chromium only where there is a share sheet (phones, Windows, macOS), not on Linux.
NOT_ON_THIS_PLATFORM = {"web-share"}


def test_chromium_knows_and_applies_every_denial_on_rendered_and_cached_pages(site, open_context):
    """Check that a post page, loaded twice (a MISS, then a HIT), leaves none of
    the denied features allowed, and that Chromium warns about no name in the
    header except those it lacks on this platform."""
    post = PostFactory()
    site.settle()
    page = open_context().new_page()
    complaints = []
    page.on("console", lambda message: complaints.append(message.text)
            if "Permissions-Policy" in message.text else None)
    denied = set(permissions_policy.DENIED_FEATURES)
    for expected in ("MISS", "HIT"):
        response = page.goto(post.get_absolute_url())
        assert response.headers["x-cache"] == expected
        known = set(page.evaluate("document.featurePolicy.features()"))
        allowed = set(page.evaluate("document.featurePolicy.allowedFeatures()"))
        assert denied - NOT_ON_THIS_PLATFORM <= known
        assert allowed & denied == set()
    unknown = {text.rsplit("'", 2)[1] for text in complaints if "Unrecognized feature" in text}
    assert unknown <= NOT_ON_THIS_PLATFORM
    assert [text for text in complaints if "Unrecognized feature" not in text] == []
