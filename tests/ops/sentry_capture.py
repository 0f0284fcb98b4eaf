"""Sentry as the tests see it: the real sentry_sdk, configured exactly as the
site configures it (ops.sentry.init), with a Transport that keeps every
envelope instead of sending it. (Envelopes from another process, such as
gunicorn's workers, arrive at tests/fixtures/sentry_endpoint.py.)"""
import sentry_sdk
from sentry_sdk.transport import Transport

from ops import sentry as ops_sentry
from tests.fixtures.sentry_endpoint import Envelopes

FAKE_DSN = "http://public@sentry.invalid/1"


class CapturingTransport(Transport):
    def __init__(self, options=None):
        super().__init__(options)
        self.envelopes = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)


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
