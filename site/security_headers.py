"""Security headers on every response, page cache hits included.

Django's middleware (SecurityMiddleware, XFrameOptionsMiddleware and
content_security_policy) adds them to what Django renders. A page cache hit
is answered in front of Django (cache/wsgi.py), from a stored entry that
keeps only a few content headers, so it would go out without them. This
outermost WSGI layer adds the same headers, from the same settings, to any
response that lacks them: a hit carries what the fresh render carried.
"""
from django.conf import settings

import content_security_policy


class SecurityHeadersApplication:
    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        def start_with_security_headers(status, headers, exc_info=None):
            present = {name.lower() for name, _ in headers}
            missing = [(name, value) for name, value in security_headers(environ)
                       if name.lower() not in present]
            return start_response(status, [*headers, *missing], exc_info)

        return self.application(environ, start_with_security_headers)


def security_headers(environ):
    """(name, value) of each header Django's middleware gives this request's responses."""
    headers = [
        ("Content-Security-Policy", content_security_policy.policy_for(environ.get("PATH_INFO", ""))),
        ("X-Frame-Options", settings.X_FRAME_OPTIONS),
    ]
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        policy = settings.SECURE_REFERRER_POLICY
        headers.append(("Referrer-Policy", policy if isinstance(policy, str) else ",".join(policy)))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
    if settings.SECURE_HSTS_SECONDS and environ.get("wsgi.url_scheme") == "https":
        headers.append(("Strict-Transport-Security", hsts_value()))
    return headers


def hsts_value():
    """As django.middleware.security.SecurityMiddleware writes it."""
    value = f"max-age={settings.SECURE_HSTS_SECONDS}"
    if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
        value += "; includeSubDomains"
    if settings.SECURE_HSTS_PRELOAD:
        value += "; preload"
    return value
