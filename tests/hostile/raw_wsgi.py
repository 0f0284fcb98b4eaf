"""WSGI environs built from raw bytes, the way gunicorn builds them (PEP 3333:
PATH_INFO percent-decoded and, like QUERY_STRING and every header, a str of
latin-1 code points), so generated input reaches the application exactly as
a hostile client's bytes would."""
import io
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes


@dataclass
class RawRequest:
    method: str = "GET"
    path: bytes = b"/"            # as on the request line, percent-encoded or not
    query: bytes = b""
    headers: dict = field(default_factory=dict)   # name -> bytes
    body: bytes = b""
    host: bytes = b"127.0.0.1"

    def environ(self):
        environ = {
            "REQUEST_METHOD": self.method, "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(self.path).decode("latin-1"),
            "QUERY_STRING": self.query.decode("latin-1"),
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(self.body),
            "wsgi.errors": io.StringIO(), "wsgi.version": (1, 0), "wsgi.multithread": True,
            "wsgi.multiprocess": True, "wsgi.run_once": False, "CONTENT_LENGTH": str(len(self.body)),
        }
        if self.host is not None:
            environ["HTTP_HOST"] = self.host.decode("latin-1")
        for name, value in self.headers.items():
            key = name.upper().replace("-", "_")
            key = key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"
            environ[key] = value.decode("latin-1")
        return environ


@dataclass
class Answer:
    status: int
    headers: list
    body: bytes

    def header(self, name):
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def all(self, name):
        return [value for key, value in self.headers if key.lower() == name.lower()]


def call(app, raw):
    """Run one request through `app`; its status, headers and body."""
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = int(status.split()[0]), list(headers)

    environ = raw.environ()
    chunks = app(environ, start_response)
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return Answer(captured["status"], captured["headers"], body), environ
