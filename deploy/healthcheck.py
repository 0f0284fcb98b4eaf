#!/usr/bin/env python
"""The Docker image's HEALTHCHECK: exit 0 when the site answers /healthz.

The slim image has no curl, so this uses the standard library only. It asks
with a Host header taken from ALLOWED_HOSTS, since Django answers 400 to a
host it does not serve (and the container's own address is rarely listed).

    python deploy/healthcheck.py [URL]     # default http://127.0.0.1:8000/healthz
"""
import os
import sys
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8000/healthz"


def served_host():
    """A host name the site serves: the first of ALLOWED_HOSTS, as a request
    would carry it (".example.com" serves example.com; "*" serves anything)."""
    hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    host = hosts[0].lstrip(".") if hosts else ""
    return host if host and host != "*" else "localhost"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect (e.g. to https) is an unhealthy answer, not a hop to follow."""

    def redirect_request(self, *args, **kwargs):
        return None


def healthy(url, timeout=3.0):
    request = urllib.request.Request(url, headers={"Host": served_host()})
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError) as error:
        print(f"healthcheck: {url}: {error}", file=sys.stderr)
        return False


if __name__ == "__main__":
    sys.exit(0 if healthy(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_URL) else 1)
