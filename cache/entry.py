"""A cached page: gzip body, headers, snapshot LSN and tags, and the
representations (gzip / identity) it is served in, each with a strong ETag,
built once per entry so a hit only appends its per-request headers."""
import gzip
import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property

# Headers kept from the rendered response, so a hit carries what the render
# carried (the security headers included: hits never pass Django's
# middleware); everything else, cookies above all, is never stored.
STORED_HEADERS = (
    "Content-Type", "Cache-Control", "Content-Language", "Link", "X-Robots-Tag",
    "Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options",
    "Cross-Origin-Opener-Policy", "Strict-Transport-Security", "Permissions-Policy",
    "Last-Modified", "Expires",
)
# What a 304 leaves out (RFC 9110 §15.4.5): the metadata of a body it does
# not carry. It keeps the validators, caching and security headers.
NOT_MODIFIED_LEAVES_OUT = frozenset({"Content-Type", "Content-Length", "Content-Encoding", "Content-Language"})


@dataclass(frozen=True)
class Representation:
    etag: str
    headers: list               # of a full answer, Content-Length included
    body: bytes
    not_modified_headers: list  # of a 304


def content_hash(body):
    return hashlib.blake2b(body, digest_size=12).hexdigest()


@dataclass
class PageCacheEntry:
    status: int
    headers: list
    gzip_body: bytes
    etag: str
    snapshot_lsn: int = 0
    tags: tuple = ()
    fresh_until: float = 0.0
    _identity: bytes = field(default=None, repr=False)
    _served: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_response(cls, response, snapshot_lsn, tags, fresh_until):
        body = response.content
        headers = [(name, response[name]) for name in STORED_HEADERS if response.has_header(name)]
        if not response.has_header("Cache-Control"):
            headers.append(("Cache-Control", "no-cache"))
        return cls(
            status=response.status_code,
            headers=headers,
            gzip_body=gzip.compress(body, compresslevel=6, mtime=0),
            etag=content_hash(body),
            snapshot_lsn=snapshot_lsn,
            tags=tuple(sorted(tags)),
            fresh_until=fresh_until,
            _identity=body,
        )

    @property
    def identity_body(self):
        if self._identity is None:
            self._identity = gzip.decompress(self.gzip_body)
        return self._identity

    def etag_for(self, gzipped):
        """Strong ETag per representation: the two bodies differ, so do their tags."""
        return f'"{self.etag}-gz"' if gzipped else f'"{self.etag}"'

    def representation(self, gzipped):
        """One representation, built once per entry."""
        found = self._served.get(gzipped)
        if found is None:
            etag = self.etag_for(gzipped)
            body = self.gzip_body if gzipped else self.identity_body
            headers = [*self.headers, ("ETag", etag), ("Vary", "Accept-Encoding")]
            if gzipped:
                headers.append(("Content-Encoding", "gzip"))
            found = self._served[gzipped] = Representation(
                etag, [*headers, ("Content-Length", str(len(body)))], body,
                [(name, value) for name, value in headers if name not in NOT_MODIFIED_LEAVES_OUT])
        return found

    @cached_property  # read by every hit's precondition check; headers never change
    def last_modified(self):
        return next((value for name, value in self.headers if name == "Last-Modified"), None)

    # --- Redis hash fields --------------------------------------------------
    def to_fields(self):
        return {
            "s": self.snapshot_lsn,
            "t": " ".join(self.tags),
            "h": json.dumps([self.status, self.headers, self.etag]),
            "b": self.gzip_body,
            "x": int(self.fresh_until * 1000),
        }

    @classmethod
    def from_fields(cls, snapshot, tags, meta, body, fresh_until_ms):
        status, headers, etag = json.loads(meta)
        return cls(status=status, headers=[tuple(h) for h in headers], gzip_body=body, etag=etag,
                   snapshot_lsn=int(snapshot), tags=tuple(tags.decode().split()) if tags else (),
                   fresh_until=int(fresh_until_ms) / 1000)
