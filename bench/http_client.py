"""A load-generating client as a browser without JavaScript would be: one
keep-alive connection (http.client), its own cookie jar (honouring Max-Age
and deletions), forms posted back with Origin and Referer (the comment
form is found as the suite finds it: tests/fixtures/html_forms.py).
Redirects are not followed: the caller sees the 303 and its Location.
"""
import http.client
import re
import time
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlencode

COMMENT_ID = re.compile(rb'id="comment-(\d+)"')
# Every bench client names the site by this host (in ALLOWED_HOSTS), whatever
# port it connects to: the page cache keys on the host, so all the servers
# of one run share their cached pages.
SITE_HOST = "localhost"


@dataclass
class Response:
    status: int
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    start: float = 0.0
    end: float = 0.0
    error: str = ""
    sent_cookies: tuple = ()
    pin_change: str = ""   # "set" or "cleared" when the response changed the pin cookie

    def header(self, name, default=""):
        return self.headers.get(name.lower(), default)


class HttpClient:
    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.connection = None
        self.jar = {}  # name -> (value, expires at (monotonic) or None)

    def close(self):
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    # --- cookies -------------------------------------------------------------
    def cookie(self, name):
        found = self.jar.get(name)
        if found is None:
            return None
        value, expires = found
        if expires is not None and time.monotonic() >= expires:
            del self.jar[name]
            return None
        return value

    def cookie_header(self):
        names = [name for name in list(self.jar) if self.cookie(name) is not None]
        return "; ".join(f"{name}={self.jar[name][0]}" for name in names), tuple(names)

    def remember(self, set_cookie_values):
        """Apply Set-Cookie headers; {name: "set" | "cleared"} of what changed."""
        changed = {}
        for raw in set_cookie_values:
            try:
                parsed = SimpleCookie(raw)
            except CookieError:
                changed[raw.split("=", 1)[0]] = "unparsable"
                continue
            for name, morsel in parsed.items():
                max_age = morsel["max-age"]
                if max_age != "" and int(max_age) <= 0 or morsel.value == "":
                    self.jar.pop(name, None)
                    changed[name] = "cleared"
                else:
                    expires = time.monotonic() + int(max_age) if max_age != "" else None
                    self.jar[name] = (morsel.value, expires)
                    changed[name] = "set"
        return changed

    # --- requests --------------------------------------------------------------
    def request(self, method, path, body=None, headers=None):
        cookies, names = self.cookie_header()
        send = {"Host": SITE_HOST, **(headers or {})}
        if cookies:
            send["Cookie"] = cookies
        start = time.time()
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.connection.request(method, path, body=body, headers=send)
            reply = self.connection.getresponse()
            data = reply.read()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            return Response(0, start=start, end=time.time(), error=f"{type(error).__name__}: {error}",
                            sent_cookies=names)
        changed = self.remember(reply.msg.get_all("Set-Cookie") or [])
        if reply.will_close:
            self.close()
        headers = {name.lower(): value for name, value in reply.getheaders()}
        return Response(reply.status, headers, data, start, time.time(), sent_cookies=names,
                        pin_change=changed.get("pin", ""))

    def get(self, path):
        return self.request("GET", path)

    def post_form(self, path, fields, referer_path):
        origin = f"http://{SITE_HOST}"
        return self.request("POST", path, body=urlencode(fields).encode(), headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": origin, "Referer": origin + referer_path})


def comment_ids(body):
    """The ids of the comments a post page shows."""
    return frozenset(int(found) for found in COMMENT_ID.findall(body))
