"""Code in posts and comments keeps its layout: each block scrolls inside
itself (blog/static/blog/site.css, checked in a browser by tests/e2e), so
each is focusable (`<pre tabindex="0">`) for keyboard users, a tab stop
added after sanitising and given to the HTML stored before it existed."""
import importlib
import re

import nh3
import pytest
from django.apps import apps

from blog import rendering
from blog.models import Comment, Post
from tests.fixtures import cluster
from tests.fixtures.factories import CommentFactory, PostFactory
from tests.fixtures.wsgi import request

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

POST_WITH_CODE = """Fenced:

```python
def replay_lag(connection, timeout_seconds=10.0):
    return connection.execute("SELECT now() - pg_last_xact_replay_timestamp()").scalar()
```

Indented:

    SELECT 1;
"""
PRE_TAGS = re.compile(r"<pre\b[^>]*>")


def test_every_code_block_of_a_post_or_comment_is_focusable():
    """Check that fenced and indented blocks in a post, and a block in a
    comment, each render as <pre tabindex="0">."""
    post_tags = PRE_TAGS.findall(rendering.render_post(POST_WITH_CODE))
    comment_tags = PRE_TAGS.findall(rendering.render_comment("Like this:\n\n```\nSELECT 1;\n```"))
    assert post_tags == ['<pre tabindex="0">', '<pre tabindex="0">']
    assert comment_tags == ['<pre tabindex="0">']


def test_the_tab_stop_survives_because_it_is_added_after_sanitising():
    """Check the hazard first: the sanitiser's allow-list strips tabindex (an
    author's included), so a tab stop added before it would be lost; the
    rendered post still has its tab stop, and an author's own tabindex on
    anything else stays stripped."""
    stripped = nh3.clean('<pre tabindex="0">x</pre>', tags=rendering.POST_TAGS, attributes=rendering.POST_ATTRIBUTES)
    assert stripped == "<pre>x</pre>"
    rendered = rendering.render_post('<p tabindex="5">Hi</p>\n\n```\nx = 1\n```\n')
    assert '<pre tabindex="0">' in rendered
    assert 'tabindex="5"' not in rendered and rendered.count("tabindex") == 1


def test_adding_tab_stops_changes_nothing_else():
    """Check that "<pre" in an attribute or in code text is left alone, entities
    and other tags are written back byte for byte, and a second pass adds nothing."""
    source = ('[a link](https://example.org "<pre>") &amp; &copy; &#169; <abbr title="<pre x>">PRE</abbr>\n\n'
              '```html\n<pre class="x">&lt;</pre>\n```\n\n![An image](/static/x.png)\n')
    sanitised = nh3.clean(rendering.markdown.markdown(source, **rendering.MARKDOWN_OPTIONS),
                          tags=rendering.POST_TAGS, attributes=rendering.POST_ATTRIBUTES,
                          set_tag_attribute_values={"img": {"loading": "lazy", "decoding": "async"}})
    focusable = rendering.focusable_code_blocks(sanitised)
    assert focusable.count(' tabindex="0"') == 1
    assert focusable.replace(' tabindex="0"', "") == sanitised
    assert rendering.focusable_code_blocks(focusable) == focusable


def test_the_migration_gives_stored_posts_and_comments_their_tab_stops():
    """Check that HTML stored before the tab stops existed gets them from the
    data migration, and that HTML without code, or with them already, is untouched."""
    post, plain = PostFactory(body=POST_WITH_CODE), PostFactory(body="No code here.")
    comment = CommentFactory(post=post, body="```\nSELECT 1;\n```")
    Post.objects.filter(pk=post.pk).update(body_html=post.body_html.replace(' tabindex="0"', ""))
    Comment.objects.filter(pk=comment.pk).update(body_html=comment.body_html.replace(' tabindex="0"', ""))
    assert "tabindex" not in Post.objects.get(pk=post.pk).body_html  # as stored before

    migration = importlib.import_module("blog.migrations.0004_focusable_code_blocks")
    migration.focus_stored_code_blocks(apps, schema_editor=None)
    migration.focus_stored_code_blocks(apps, schema_editor=None)

    assert Post.objects.get(pk=post.pk).body_html == post.body_html
    assert Comment.objects.get(pk=comment.pk).body_html == comment.body_html
    assert Post.objects.get(pk=plain.pk).body_html == plain.body_html


def test_code_blocks_are_focusable_on_the_page_rendered_and_cached(site_app):
    """Check through the real WSGI stack that the post page, as rendered (MISS)
    and as the cache serves it (HIT), has every code block focusable."""
    post = PostFactory(body=POST_WITH_CODE)
    CommentFactory(post=post, body="```\nSELECT 1;\n```")
    cluster.wait_all_replayed()
    miss = request(site_app, post.get_absolute_url())
    hit = request(site_app, post.get_absolute_url())
    assert (miss.headers["X-Cache"], hit.headers["X-Cache"]) == ("MISS", "HIT")
    for page in (miss, hit):
        assert PRE_TAGS.findall(page.text) == ['<pre tabindex="0">'] * 3
