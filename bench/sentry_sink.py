"""A local Sentry sink: every bench server reports to it (SENTRY_DSN on
127.0.0.1), so the benchmark measures the site as deployed, Sentry SDK
included, and the run can say what ops would have received (envelopes by
item type, e.g. one event per outage rather than one per request).

    with SentrySink(port) as sink:
        env["SENTRY_DSN"] = sink.dsn
        ...
        sink.counts()        # {"event": 3, "check_in": 1, ...}
"""
import gzip
import json
import threading
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli


def item_types(body, encoding):
    """The item types in one envelope: a header line, then item header and
    payload pairs (a payload of a given `length` may hold newlines)."""
    if encoding == "gzip":
        body = gzip.decompress(body)
    elif encoding == "br":  # the SDK's choice when the Brotli package is installed (it is)
        body = brotli.decompress(body)
    elif encoding == "deflate":
        body = zlib.decompress(body)
    elif encoding:
        return [f"unparsed ({encoding})"]
    types, offset = [], body.find(b"\n") + 1
    while 0 < offset < len(body):
        end = body.find(b"\n", offset)
        end = len(body) if end < 0 else end
        if not body[offset:end].strip():
            offset = end + 1
            continue
        header = json.loads(body[offset:end])
        types.append(header.get("type", "unknown"))
        if header.get("length") is None:
            payload_end = body.find(b"\n", end + 1)
            offset = (len(body) if payload_end < 0 else payload_end) + 1
        else:
            offset = end + 1 + header["length"] + 1
    return types


class SentrySink:
    def __init__(self, port):
        self.port = port
        self.received = Counter()
        self.marks = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    found = item_types(body, self.headers.get("Content-Encoding", ""))
                except (OSError, ValueError, zlib.error, brotli.error):
                    found = ["unparsed"]
                sink.received.update(found)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def dsn(self):
        return f"http://benchpublickey@127.0.0.1:{self.port}/1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()

    def counts(self):
        return dict(self.received)

    def since(self, before):
        return {key: value - before.get(key, 0) for key, value in self.received.items()
                if value - before.get(key, 0)}
