"""Readers' pages (SPEC "Reader-facing contract"): status, content, what the
page cache is told (params and tags), and a constant number of queries."""
from datetime import datetime, timezone as dt_timezone

import pytest

from blog.models import Post
from tests.fixtures.factories import AuthorFactory, CommentFactory, PostFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_home_lists_published_posts_newest_first_and_no_drafts(client):
    """Check that the home page shows published posts, newest first, and hides drafts and scheduled ones."""
    older = PostFactory(title="Older post")
    newer = PostFactory(title="Newer post", published_at=older.published_at.replace(year=older.published_at.year + 1))
    PostFactory(title="Secret draft", status=Post.Status.DRAFT, published_at=None)
    PostFactory(title="Coming soon", status=Post.Status.SCHEDULED)
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("Newer post") < html.index("Older post")
    assert "Secret draft" not in html and "Coming soon" not in html
    assert response.wsgi_request.page_cache_params == ("page",)
    assert {"home", f"post:{newer.pk}", f"post:{older.pk}", f"author:{newer.author_id}"} <= \
        response.wsgi_request.page_cache_tags


def test_home_paginates_with_page_parameter_and_404s_beyond(client, settings):
    """Check that ?page=2 shows the next posts, and a bad or empty page is a 404, not a 500."""
    posts = PostFactory.create_batch(12)
    second = client.get("/?page=2").content.decode()
    assert posts[-1].title in second and posts[0].title not in second  # newest first: posts[0] is on page 1
    assert 'rel="prev"' in second
    for bad in ("0", "3", "abc", "-1", "99999999999999999999", "²", "", "501"):
        assert client.get(f"/?page={bad}").status_code == 404, bad


@pytest.mark.parametrize("spelling, canonical", [
    ("/?page=1", "/"), ("/?page=02", "/?page=2"), ("/?page=0002", "/?page=2"),
    ("/search/?q=post&page=01", "/search/?q=post"),
])
def test_another_spelling_of_a_page_number_redirects_to_its_one_url(client, spelling, canonical, settings):
    """Check that `?page=1`, `?page=02`... are neither a new cache key nor a
    new render: a permanent redirect to the page's canonical URL."""
    settings.SEARCH_RATE_LIMIT = "off"
    PostFactory.create_batch(12, title="post")
    response = client.get(spelling)
    assert response.status_code == 301 and response["Location"] == canonical


def test_page_links_are_canonical_and_lists_stop_at_the_deepest_page(client, settings, monkeypatch):
    """Check that "Newer" from page 2 is the bare URL, and that the last page
    allowed links no deeper (MAX_PAGE bounds what one uncached page costs)."""
    monkeypatch.setattr("blog.pagination.MAX_PAGE", 2)
    PostFactory.create_batch(25)
    second = client.get("/?page=2").content.decode()
    assert 'rel="prev" href="/"' in second and 'rel="next"' not in second
    assert client.get("/?page=3").status_code == 404


def test_home_costs_the_same_queries_with_1_and_50_posts(assert_constant_queries, busy):
    """Check that the home page's query count does not grow with posts, tags and authors."""
    PostFactory(tags=[TagFactory()])
    assert_constant_queries("/", busy)


def test_post_page_shows_body_tags_visible_comments_and_the_form(client):
    """Check that a post page renders its Markdown, its tags, visible comments by id, and a comment form."""
    tag = TagFactory(name="Replication", slug="replication")
    post = PostFactory(tags=[tag])
    shown = CommentFactory(post=post, body="Shown comment")
    CommentFactory(post=post, body="Hidden comment", status="hidden")
    CommentFactory(post=post, body="Held comment", status="held")
    response = client.get(f"/posts/{post.slug}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<span class="k">print</span>' in html or 'class="codehilite"' in html
    assert f'id="comment-{shown.pk}"' in html and "Shown comment" in html
    assert "Hidden comment" not in html and "Held comment" not in html
    assert f'action="/posts/{post.slug}/comments/"' in html and 'name="form_token"' in html
    assert "csrfmiddlewaretoken" not in html and not response.cookies  # the test client keeps cookies there
    assert f'<link rel="canonical" href="http://testserver/posts/{post.slug}/">' in html
    assert 'property="og:title"' in html and 'property="og:type" content="article"' in html
    assert response.wsgi_request.page_cache_params == ()
    assert response.wsgi_request.page_cache_tags == {
        f"post:{post.pk}", f"post-at:{post.slug}", f"author:{post.author_id}", "tag:replication"}


def test_post_page_costs_the_same_queries_with_1_and_50_comments_and_tags(assert_constant_queries, busy):
    """Check that a post page's query count does not grow with its comments."""
    post = PostFactory(tags=[TagFactory()])
    CommentFactory(post=post)

    def grow():
        busy(post=post)
        post.tags.add(*TagFactory.create_batch(49))

    assert_constant_queries(f"/posts/{post.slug}/", grow)


def test_drafts_and_unknown_posts_are_friendly_404s(client):
    """Check that a draft's URL and an unknown slug answer the site's 404 page."""
    draft = PostFactory(status=Post.Status.DRAFT, published_at=None)
    for url in (f"/posts/{draft.slug}/", "/posts/no-such-post/", "/nowhere/"):
        response = client.get(url)
        assert response.status_code == 404
        assert "We could not find that page" in response.content.decode()


def test_tag_page_lists_only_that_tags_posts(client, assert_constant_queries, busy):
    """Check that /tags/<slug>/ lists the tag's published posts, in constant queries."""
    tag = TagFactory(name="Caching", slug="caching")
    inside = PostFactory(title="Inside the tag", tags=[tag])
    PostFactory(title="Outside the tag")
    response = client.get("/tags/caching/")
    html = response.content.decode()
    assert "Inside the tag" in html and "Outside the tag" not in html and "Caching" in html
    assert {"tag:caching", f"post:{inside.pk}"} <= response.wsgi_request.page_cache_tags
    assert client.get("/tags/nope/").status_code == 404
    assert_constant_queries("/tags/caching/", lambda: busy(tag=tag))


def test_author_page_lists_the_authors_posts_and_hides_non_authors(client, assert_constant_queries, busy):
    """Check that /authors/<username>/ lists that author's posts, and accounts without posts are 404."""
    author = AuthorFactory(username="maya", first_name="Maya", last_name="Lind")
    PostFactory(title="By Maya", author=author)
    PostFactory(title="By someone else")
    AuthorFactory(username="editor-without-posts")
    response = client.get("/authors/maya/")
    html = response.content.decode()
    assert "By Maya" in html and "By someone else" not in html and "Maya Lind" in html
    assert f"author:{author.pk}" in response.wsgi_request.page_cache_tags
    assert client.get("/authors/editor-without-posts/").status_code == 404
    assert_constant_queries("/authors/maya/", lambda: busy(author=author))


def test_archives_by_year_and_month(client, assert_constant_queries, busy):
    """Check that yearly and monthly archives list the right posts; malformed dates are 404s."""
    march = PostFactory(title="March post", published_at=datetime(2025, 3, 9, tzinfo=dt_timezone.utc))
    PostFactory(title="July post", published_at=datetime(2025, 7, 1, tzinfo=dt_timezone.utc))
    PostFactory(title="Other year", published_at=datetime(2024, 3, 1, tzinfo=dt_timezone.utc))
    year = client.get("/archive/2025/")
    assert "March post" in year.content.decode() and "Other year" not in year.content.decode()
    assert 'href="/archive/2025/03/"' in year.content.decode()
    assert "archive:2025" in year.wsgi_request.page_cache_tags
    month = client.get("/archive/2025/03/")
    assert "March post" in month.content.decode() and "July post" not in month.content.decode()
    assert {"archive:2025-03", f"post:{march.pk}"} <= month.wsgi_request.page_cache_tags
    for url in ("/archive/2025/3/", "/archive/2025/13/", "/archive/0000/", "/archive/1999/", "/archive/2025/02/"):
        assert client.get(url).status_code == 404, url

    def grow():
        for _ in range(49):
            PostFactory(published_at=datetime(2025, 3, 10, tzinfo=dt_timezone.utc), tags=TagFactory.create_batch(2))

    assert_constant_queries("/archive/2025/03/", grow)
    assert_constant_queries("/archive/2025/", lambda: busy(0))


def test_search_ranks_matches_and_highlights_safely(client):
    """Check that /search/?q= finds posts by full-text search, best first, with escaped, highlighted snippets."""
    PostFactory(title="Replica lag explained", body="Why replica lag happens. <script>alert(1)</script>")
    PostFactory(title="Cooking pasta", body="Water, salt, patience.")
    response = client.get("/search/", {"q": "replica lag"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Replica lag explained" in html and "Cooking pasta" not in html
    assert "<mark>" in html and "<script>alert(1)</script>" not in html
    assert response.wsgi_request.page_cache_params == ("page", "q")
    assert "search" in response.wsgi_request.page_cache_tags
    assert "No post matches" in client.get("/search/", {"q": "zebra"}).content.decode()


def test_search_refuses_overlong_queries_and_rate_limits(client, settings):
    """Check that search terms are length-capped (400) and searches rate-limited per client (429)."""
    PostFactory(title="Replica lag explained")
    assert client.get("/search/", {"q": "x" * 201}).status_code == 400
    settings.SEARCH_RATE_LIMIT = "2/min"
    address = {"REMOTE_ADDR": "192.0.2.77"}
    statuses = [client.get("/search/", {"q": f"replica {n}"}, **address).status_code for n in range(3)]
    assert statuses == [200, 200, 429]


def test_search_costs_the_same_queries_with_1_and_50_results(assert_constant_queries, busy):
    """Check that a search page's query count does not grow with results."""
    PostFactory(title="Replica lag explained")
    assert_constant_queries("/search/?q=lag", busy)


def test_feed_is_atom_with_latest_posts(client):
    """Check that /feed/ is an Atom feed of published posts."""
    post = PostFactory(title="Feed me")
    PostFactory(title="Not yet", status=Post.Status.DRAFT, published_at=None)
    response = client.get("/feed/")
    body = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("application/atom+xml")
    assert "<feed" in body and "Feed me" in body and "Not yet" not in body
    assert f"/posts/{post.slug}/" in body
    assert response.wsgi_request.page_cache_tags == {"feed"}


def test_sitemap_index_and_sections_list_published_posts_and_tags(client):
    """Check that /sitemap.xml indexes sections listing published posts and tags."""
    post = PostFactory(tags=[TagFactory(slug="sql")])
    draft = PostFactory(status=Post.Status.DRAFT, published_at=None)
    index = client.get("/sitemap.xml").content.decode()
    assert "sitemap-posts.xml" in index and "sitemap-tags.xml" in index
    posts = client.get("/sitemap-posts.xml").content.decode()
    assert f"/posts/{post.slug}/" in posts and f"/posts/{draft.slug}/" not in posts
    assert "/tags/sql/" in client.get("/sitemap-tags.xml").content.decode()
    assert client.get("/sitemap-nope.xml").status_code == 404


def test_feed_and_sitemap_cost_the_same_queries_with_1_and_50_posts(assert_constant_queries, busy):
    """Check that the feed and the sitemap do not run a query per post."""
    PostFactory(tags=[TagFactory()])
    assert_constant_queries("/feed/", busy)
    assert_constant_queries("/sitemap-posts.xml", busy)


def test_robots_txt_points_at_the_sitemap(client):
    """Check that /robots.txt keeps robots out of the admin and names the sitemap."""
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    assert "Disallow: /admin/" in response.content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in response.content.decode()


def test_server_error_page_is_friendly_and_needs_no_database(rf):
    """Check that the 500 page renders from its template alone."""
    from django.views.defaults import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_pages_load_only_assets_served_by_the_site(client):
    """Check that a page references no external stylesheet, script, font or image."""
    post = PostFactory(body="![A diagram](/static/blog/demo/replication.svg)")
    for url in ("/", f"/posts/{post.slug}/"):
        html = client.get(url).content.decode()
        assert "https://" not in html.replace('href="https://', "")  # no remote src=
        assert 'src="http' not in html and "<script" not in html
        assert 'name="viewport"' in html and 'lang="en"' in html


def test_favicon_ico_points_at_the_sites_icon(client):
    """Check that the path browsers ask for on their own redirects to the icon the pages name."""
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].startswith("/static/blog/favicon.") and response["Location"].endswith(".svg")
