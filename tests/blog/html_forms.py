"""Find a form in a page the way a browser without JavaScript would: its
action and every input's name and value (hidden ones included)."""
from html.parser import HTMLParser


class FormFinder(HTMLParser):
    def __init__(self, action_contains):
        super().__init__()
        self.action_contains = action_contains
        self.action, self.fields, self._inside = None, {}, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.action_contains in (attrs.get("action") or ""):
            self.action, self._inside = attrs["action"], True
        elif self._inside and tag in ("input", "textarea") and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._inside = False


def comment_form(html):
    """(action, fields) of the comment form in a post page."""
    finder = FormFinder("/comments/")
    finder.feed(html)
    assert finder.action, "no comment form in the page"
    return finder.action, finder.fields
