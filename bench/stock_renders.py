"""Counts the stock per-site cache's misses (renders) in Redis, key
`bench:stock:renders`. It sits after FetchFromCacheMiddleware, which
answers hits before it, so a hit never pays for the count. The bench's own
/healthz probes (waiting for a server to drain) are not pages: not counted."""
from django.core.cache import cache

RENDERS_KEY = "bench:stock:renders"


class CountRendersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return self.get_response(request)
        client = cache.client.get_client(write=True)
        client.incr(RENDERS_KEY)
        return self.get_response(request)
