"""Page cache fast path in front of Django (placeholder)."""


class PageCacheApplication:
    def __init__(self, django_app):
        self.django_app = django_app

    def __call__(self, environ, start_response):
        return self.django_app(environ, start_response)
