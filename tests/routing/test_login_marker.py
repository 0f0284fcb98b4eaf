"""The login marker: the only proof of a logged-in editor that the router and
the page cache's fast path trust, issued to live sessions and withdrawn from
dead ones (logout, expiry, password change elsewhere, flushed store)."""
import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from routing.login_marker import SIGNER, signed_in
from tests.fixtures import cluster
from tests.fixtures.factories import UserFactory
from tests.fixtures.wsgi import application_on, request

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

PASSWORD = "correct horse battery staple"


@pytest.fixture
def editor(replicated_db):
    user = UserFactory(username="ed", is_staff=True, is_superuser=True)
    user.set_password(PASSWORD)
    user.save()
    return user


def logged_in_client():
    client = Client()
    response = client.post("/admin/login/?next=/admin/", {"username": "ed", "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return client, response


def test_a_login_sets_a_marker_bound_to_the_new_session(editor):
    """Check that logging in sets the marker, valid for the session key the login created."""
    client, response = logged_in_client()
    marker, session_key = response.cookies["signedin"].value, client.cookies["sessionid"].value
    assert signed_in({"signedin": marker, "sessionid": session_key})
    assert not signed_in({"signedin": marker, "sessionid": "another-session-key"})
    assert not signed_in({"sessionid": session_key})


def test_the_marker_expires_with_the_session_cookie(editor, settings):
    """Check that the marker cookie lives as long as the session cookie."""
    _, response = logged_in_client()
    assert int(response.cookies["signedin"]["max-age"]) == settings.SESSION_COOKIE_AGE
    assert response.cookies["signedin"]["httponly"] is True


def test_a_logout_deletes_the_marker(editor):
    """Check that logging out withdraws the marker."""
    client, _ = logged_in_client()
    response = client.post("/admin/logout/")
    assert response.cookies["signedin"].value == "" and response.cookies["signedin"]["max-age"] == 0


@pytest.mark.parametrize("ending", ["expired", "flushed", "password changed elsewhere"])
def test_a_session_that_ended_without_a_logout_loses_its_marker(editor, ending):
    """Check that once the session is loaded and found dead, the marker is
    deleted (so the client reads like any reader again)."""
    client, _ = logged_in_client()
    session_key = client.cookies["sessionid"].value
    if ending == "expired":
        from django.utils import timezone
        Session.objects.filter(session_key=session_key).update(expire_date=timezone.now())
    elif ending == "flushed":
        Session.objects.all().delete()
    else:
        editor.set_password("a whole new password")
        editor.save()
    cluster.wait_all_replayed()
    response = client.get("/admin/")
    assert response.cookies["signedin"].value == ""


def test_a_live_session_without_a_marker_gets_one_and_is_sent_back_once(editor, redis_client):
    """Check that a session from before the marker existed, reading a cached
    page, is redirected once to the same URL with a marker, and that page is
    never stored; with the marker it is then served as an editor's."""
    from tests.fixtures.factories import PostFactory

    PostFactory(slug="hello")
    client, _ = logged_in_client()
    session_key = client.cookies["sessionid"].value
    cluster.wait_all_replayed()
    with application_on("urls") as app:
        first = request(app, "/posts/hello/", cookies={"sessionid": session_key})
        assert first.status == 302 and first.headers["Location"] == "/posts/hello/"
        assert "no-store" in first.headers["Cache-Control"]
        marker = first.cookies["signedin"].value
        second = request(app, "/posts/hello/", cookies={"sessionid": session_key, "signedin": marker})
        assert second.status == 200 and second.headers["X-Cache"] == "BYPASS"
        assert not [key for key in redis_client.keys("pc:dev:*") if b"/posts/hello/" in key]


def test_a_marker_from_another_key_or_forged_is_worthless():
    """Check that a marker signed with another secret, or bound to another
    session, does not count."""
    from django.test import override_settings

    genuine = SIGNER.sign("editor", bound_to="k1")
    assert signed_in({"signedin": genuine, "sessionid": "k1"})
    assert not signed_in({"signedin": genuine, "sessionid": "k2"})
    assert not signed_in({"signedin": "editor.0." + "0" * 32, "sessionid": "k1"})
    with override_settings(SECRET_KEY="some-other-secret-" * 4):
        assert not signed_in({"signedin": genuine, "sessionid": "k1"})
