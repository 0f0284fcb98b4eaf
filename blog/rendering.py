"""Markdown to safe HTML, done once when a post or comment is saved.

Posts (written by editors) get full Markdown with fenced code highlighted by
Pygments; comments (written by anyone) get a tiny subset. Both go through
nh3 afterwards, so whatever the Markdown produced, only an allow-list of
tags, attributes and URL schemes reaches a reader: no <script>, no event
handlers, no `javascript:` links.
"""
import html
import math
import re

import markdown
import nh3

POST_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "figcaption",
    "figure", "h2", "h3", "h4", "h5", "h6", "hr", "img", "li", "ol", "p", "pre", "span", "strong",
    "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}
POST_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "div": {"class"},
    "span": {"class"},
    "code": {"class"},
    "pre": {"class"},
    "th": {"align"},
    "td": {"align"},
}
COMMENT_TAGS = {"p", "br", "em", "strong", "code", "pre", "a", "blockquote", "ul", "ol", "li"}
URL_SCHEMES = {"http", "https", "mailto"}
WORDS_PER_MINUTE = 220
MARKDOWN_OPTIONS = {
    "extensions": ["fenced_code", "codehilite", "tables", "sane_lists", "smarty", "attr_list"],
    "extension_configs": {
        # No guessing: an unlabelled block stays plain rather than mis-coloured.
        "codehilite": {"guess_lang": False, "css_class": "codehilite"},
    },
    "output_format": "html",
}


def render_post(source):
    """HTML of a post's Markdown: highlighted, sanitised, images lazy-loaded."""
    rendered = markdown.markdown(source, **MARKDOWN_OPTIONS)
    # The post's title is the page's only <h1>: a `# heading` becomes an <h2>.
    rendered = re.sub(r"<(/?)h1\b", r"<\1h2", rendered)
    return nh3.clean(
        rendered, tags=POST_TAGS, attributes=POST_ATTRIBUTES, url_schemes=URL_SCHEMES,
        clean_content_tags={"script", "style"},
        set_tag_attribute_values={"img": {"loading": "lazy", "decoding": "async"}},
    )


def render_comment(source):
    """HTML of a comment: its raw HTML is escaped (shown as text), then a small
    Markdown subset; links are marked as user content, never followed by robots."""
    escaped = html.escape(source, quote=False)
    rendered = markdown.markdown(escaped, extensions=["fenced_code", "sane_lists"], output_format="html")
    return nh3.clean(
        rendered, tags=COMMENT_TAGS, attributes={"a": {"href"}}, url_schemes=URL_SCHEMES,
        link_rel="nofollow ugc noopener noreferrer",
    )


def plain_text(rendered_html):
    """Readable text of rendered HTML (for search snippets and excerpts)."""
    text = nh3.clean(rendered_html, tags=set(), clean_content_tags={"script", "style"})
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def excerpt_of(text, words=40):
    """The first `words` words of `text`, with an ellipsis when cut."""
    parts = text.split()
    if len(parts) <= words:
        return " ".join(parts)
    return " ".join(parts[:words]).rstrip(",.;:") + "…"


def reading_minutes(text):
    return max(1, math.ceil(len(text.split()) / WORDS_PER_MINUTE))
