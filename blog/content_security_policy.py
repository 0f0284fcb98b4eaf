"""The Content-Security-Policy header on every response Django produces.

Django 5.2 has no built-in CSP, so this is a tiny middleware. The policy lets
a page use only this site's own scripts, styles, fonts and images (plus
`data:` images), forbids inline scripts and framing, and keeps forms and
`<base>` on this site: an injected `<script>` or `onclick=` does not run.

The admin (Django's own templates) gets one relaxation, inline styles:
`admin/change_list.html` writes a `<style>` block when a model admin shows no
actions. Its scripts are all files, so `script-src` stays strict there too.

A response that already carries the header (a view that set its own) keeps it.
"""

POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
ADMIN_PREFIX = "/admin/"
ADMIN_POLICY = POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


def policy_for(path):
    """The policy for a request path (without any SCRIPT_NAME prefix)."""
    return ADMIN_POLICY if path.startswith(ADMIN_PREFIX) else POLICY


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", policy_for(request.path_info))
        return response
