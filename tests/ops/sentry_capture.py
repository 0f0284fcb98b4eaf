"""Sentry as the tests see it: the real sentry_sdk, configured exactly as the
site configures it (ops.sentry.init), with a Transport that keeps every
envelope instead of sending it; and a tiny HTTP endpoint that receives real
envelopes from another process (gunicorn)."""
import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import brotli
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from ops import sentry as ops_sentry

FAKE_DSN = "http://public@sentry.invalid/1"


class CapturingTransport(Transport):
    def __init__(self, options=None):
        super().__init__(options)
        self.envelopes = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)


class Envelopes:
    """What reached Sentry: items by type, and the raw bytes (for "never in it" checks)."""

    def __init__(self):
        self.envelopes = []

    def items(self, kind):
        return [item.payload.json for envelope in list(self.envelopes) for item in envelope.items
                if item.type == kind]

    @property
    def events(self):
        return self.items("event")

    @property
    def transactions(self):
        return self.items("transaction")

    @property
    def check_ins(self):
        return self.items("check_in")

    def ops_events(self, subject):
        return [e for e in self.events if e.get("tags", {}).get("ops.subject") == subject]

    def messages(self, starting):
        return [e for e in self.events if (e.get("message") or "").startswith(starting)]

    def raw(self):
        return b"\n".join(envelope.serialize() for envelope in list(self.envelopes)).decode(errors="replace")


class CapturedSentry(Envelopes):
    def __init__(self, transport):
        super().__init__()
        self.envelopes = transport.envelopes


def start_capturing(traces_sample_rate=1.0):
    transport = CapturingTransport()
    ops_sentry.init(FAKE_DSN, release="test-release", environment="test",
                    traces_sample_rate=traces_sample_rate, transport=transport)
    return CapturedSentry(transport)


def stop_capturing():
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)


class EnvelopeReceiver(Envelopes):
    """A Sentry stand-in on 127.0.0.1: `dsn` to give a process; the envelopes it posted."""

    def __init__(self):
        super().__init__()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                # The SDK compresses with brotli when the Brotli package is
                # installed (it is: static files), else gzip; Sentry takes both.
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                elif self.headers.get("Content-Encoding") == "br":
                    body = brotli.decompress(body)
                receiver.envelopes.append(Envelope.deserialize(body))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({}).encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.dsn = f"http://public@127.0.0.1:{self.server.server_address[1]}/1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.server.shutdown()
        self.server.server_close()
