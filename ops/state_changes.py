"""One Sentry event per state change of a subject (a replica, Redis...),
however many processes notice it (ops/events.py says which changes).

Every worker notices each change by itself (each runs its own health poller
and guarded Redis connection), and a refused write is signalled per request. So that
ops get one event per change, not one per process or per request:

- a process ignores a state it already has for the subject (no Redis call);
- then it claims the change in Redis: a key per subject holds the state last
  reported and when. The change is reported unless that same state was
  reported since this process's own previous change of the subject (a late
  worker stays quiet; the next outage is reported afresh);
- when Redis cannot answer (Redis is the subject, or is down too), each
  process reports its own changes: once per change per process.
"""
import logging
import threading
import time
from dataclasses import dataclass, field

import redis
import sentry_sdk

import cache


logger = logging.getLogger(__name__)

KEY_PREFIX = "ops:state:"
# A state still true a day later is worth one more event (a reminder).
KEY_TTL_SECONDS = 86400

# KEYS[1]: the subject's key. ARGV: state, since (ms), now (ms), ttl (s).
# Returns 1 when the caller reports the change (and records it), 0 when it was reported already.
CLAIM = """
local stored = redis.call('GET', KEYS[1])
if stored then
  local state, at = string.match(stored, '^(%S+) (%d+)$')
  if state == ARGV[1] and tonumber(at) >= tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[3], 'EX', ARGV[4])
return 1
"""


@dataclass(frozen=True)
class Change:
    """A subject's new state, and what an on-call person should read about it."""
    subject: str
    state: str
    message: str
    level: str = "warning"
    tags: dict = field(default_factory=dict)
    # False when Redis is known to be unreachable: no claim is even tried.
    shareable: bool = True


class SharedStates:
    """The last reported state of each subject, in Redis."""

    def __init__(self, client):
        # The page cache's connection pool (its short timeouts, no retries: a
        # dead Redis costs a reporter milliseconds), but not its guard: a
        # report must never be what decides the page cache trusts Redis again.
        self.client = client
        self.script = self.client.register_script(CLAIM)

    def claim(self, subject, state, since):
        """True: report it; False: already reported; None: Redis did not answer."""
        try:
            return bool(self.script(keys=[KEY_PREFIX + subject],
                                    args=[state, int(since * 1000), int(time.time() * 1000), KEY_TTL_SECONDS]))
        except (redis.RedisError, OSError) as error:
            logger.info("ops: cannot share the state of %s through Redis (%s)", subject, error)
            return None

    def record(self, subject, state):
        """Store `state` as the subject's last reported one."""
        try:
            self.client.set(KEY_PREFIX + subject, f"{state} {int(time.time() * 1000)}", ex=KEY_TTL_SECONDS)
        except (redis.RedisError, OSError) as error:
            logger.info("ops: cannot share the state of %s through Redis (%s)", subject, error)


def shared_states():
    return SharedStates(cache.redis_guard().client)


class StateChangeReporter:
    """This process's side: the state it last saw of each subject, and since when."""

    def __init__(self):
        self._seen = {}
        self._lock = threading.Lock()

    def report(self, change):
        """Send `change` to Sentry unless this or another process already did; True if sent."""
        if not sentry_sdk.get_client().is_active():
            return False
        previous = self._remember(change.subject, change.state)
        if previous is False:
            return False
        since = previous[1] if previous else 0.0
        claimed = shared_states().claim(change.subject, change.state, since) if change.shareable else None
        if claimed is False:
            logger.info("ops: %s %s: already reported by another process", change.subject, change.state)
            return False
        send(change, deduplicated="redis" if claimed else "per-process")
        return True

    def settle(self, subject, state):
        """Know `state` without reporting it (writes are accepted again once
        the primary is back: the primary's own event says so)."""
        if self._remember(subject, state) is not False:
            self._record_quietly(subject, state)

    def _remember(self, subject, state):
        """The previous (state, since) or None; False if `state` is not new here."""
        with self._lock:
            previous = self._seen.get(subject)
            if previous is not None and previous[0] == state:
                return False
            self._seen[subject] = (state, time.time())
            return previous

    @staticmethod
    def _record_quietly(subject, state):
        if sentry_sdk.get_client().is_active():
            shared_states().record(subject, state)

    def reset(self):
        with self._lock:
            self._seen.clear()


reporter = StateChangeReporter()


def send(change, deduplicated):
    with sentry_sdk.new_scope() as scope:
        scope.fingerprint = ["ops", change.subject, change.state]
        scope.set_tag("ops.subject", change.subject)
        scope.set_tag("ops.state", change.state)
        scope.set_tag("ops.deduplicated", deduplicated)
        for name, value in change.tags.items():
            scope.set_tag(name, value)
        sentry_sdk.capture_message(change.message, level=change.level)
    logger.info("ops: %s %s: reported to Sentry (%s)", change.subject, change.state, deduplicated)
