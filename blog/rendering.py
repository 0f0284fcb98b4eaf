"""Markdown to safe HTML, done once when a post or comment is saved.

Posts (written by editors) get full Markdown with fenced code highlighted by
Pygments; comments (written by anyone) get a tiny subset. Both go through
nh3 afterwards, so whatever the Markdown produced, only an allow-list of
tags, attributes and URL schemes reaches a reader: no <script>, no event
handlers, no `javascript:` links. After sanitising, each code block is made
focusable (`<pre tabindex="0">`): a long line scrolls inside its block, and a
keyboard user must be able to reach the block to scroll it.
"""
import html
import math
import re
from html.parser import HTMLParser

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
    sanitised = nh3.clean(
        rendered, tags=POST_TAGS, attributes=POST_ATTRIBUTES, url_schemes=URL_SCHEMES,
        clean_content_tags={"script", "style"},
        set_tag_attribute_values={"img": {"loading": "lazy", "decoding": "async"}},
    )
    return focusable_code_blocks(sanitised)


def render_comment(source):
    """HTML of a comment: its raw HTML is escaped (shown as text), then a small
    Markdown subset; links are marked as user content, never followed by robots."""
    escaped = html.escape(source, quote=False)
    rendered = markdown.markdown(escaped, extensions=["fenced_code", "sane_lists"], output_format="html")
    sanitised = nh3.clean(
        rendered, tags=COMMENT_TAGS, attributes={"a": {"href"}}, url_schemes=URL_SCHEMES,
        link_rel="nofollow ugc noopener noreferrer",
    )
    return focusable_code_blocks(sanitised)


class _CodeBlockTabStops(HTMLParser):
    """Writes sanitised HTML back out unchanged, except that every <pre> start
    tag gains tabindex="0". A real parser rather than a regular expression:
    "<pre" inside an attribute value or text is not a tag, and must stay as it is."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.parts = []

    def handle_starttag(self, tag, attrs):
        text = self.get_starttag_text()
        if tag == "pre" and "tabindex" not in dict(attrs):
            text = text[:-1].rstrip() + ' tabindex="0">'
        self.parts.append(text)

    def handle_startendtag(self, tag, attrs):
        self.parts.append(self.get_starttag_text())

    def handle_endtag(self, tag):
        self.parts.append(f"</{tag}>")

    def handle_data(self, data):
        self.parts.append(data)

    def handle_entityref(self, name):
        self.parts.append(f"&{name};")

    def handle_charref(self, name):
        self.parts.append(f"&#{name};")

    def handle_comment(self, data):
        self.parts.append(f"<!--{data}-->")


def focusable_code_blocks(sanitised_html):
    """`sanitised_html` with tabindex="0" on each <pre> that has none (idempotent).
    Done after nh3, whose allow-list would otherwise have to admit tabindex
    from authors too, on any tag and with any value."""
    if "<pre" not in sanitised_html:
        return sanitised_html
    writer = _CodeBlockTabStops()
    writer.feed(sanitised_html)
    writer.close()
    return "".join(writer.parts)


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
