"""Where the current code wants to read from, as context variables.

contextvars (not threading.local) so that the state is right under threads
*and* ASGI tasks, and token stacks so that nested blocks restore exactly the
state they found (django-multidb-router kept one saved flag, and leaked).
"""
from contextlib import ContextDecorator
from contextvars import ContextVar
from dataclasses import dataclass, field

_forced_primary = ContextVar("routing_forced_primary", default=False)
_current = ContextVar("routing_request", default=None)
_token_stack = ContextVar("routing_tokens", default=())


@dataclass
class ReadPosition:
    """One request's (or background job's) routing: which server it reads
    from, and the WAL position that server must have replayed.

    `min_lsn` is the pin (a write the session made or a position it has
    seen); `snapshot_lsn` is the chosen server's replay LSN measured before
    the first query (the primary: its current LSN).
    """

    min_lsn: int = 0
    pinned: bool = False
    pin_age: float = 0.0
    primary_reason: str = ""
    alias: str = ""
    snapshot_lsn: int = 0
    wrote_lsn: int = 0
    excluded: set = field(default_factory=set)
    degraded: str = ""
    retried: bool = False
    wait_deadline: float = 0.0    # when a pinned read stops waiting for a server past its pin
    own_lsn: int | None = None    # the session's own position, once require() raised min_lsn past it

    @property
    def why(self):
        """Why this request reads where it does, for Sentry tags and logs."""
        if self.degraded:
            return self.degraded
        if self.primary_reason:
            return self.primary_reason
        return "pinned" if self.pinned else "replica"

    def require(self, lsn):
        """Read only from a server at or past `lsn` (before the first query):
        a position the request must reach that is not the session's own (a
        refill after an invalidation)."""
        if lsn > self.min_lsn:
            if self.own_lsn is None:
                self.own_lsn = self.min_lsn
            self.min_lsn = lsn

    def settle_for_own(self):
        """Give up the positions require() added: with the primary down only
        the session's own one is worth waiting for (routing/router.py)."""
        if self.own_lsn is not None:
            self.min_lsn, self.own_lsn = self.own_lsn, None

    def forget_server(self, alias):
        """Choose again, without `alias`, at the next read (failover)."""
        self.excluded.add(alias)
        self.alias = ""
        self.snapshot_lsn = 0


def current():
    """The ReadPosition of the running request or job, or None."""
    return _current.get()


def primary_forced():
    return _forced_primary.get()


class _Scoped(ContextDecorator):
    """A block that sets a context variable and restores it exactly on exit,
    however blocks nest and whichever thread or task runs them."""

    variable = None

    def value(self):
        raise NotImplementedError

    def __enter__(self):
        token = self.variable.set(self.value())
        _token_stack.set(_token_stack.get() + (token,))
        return self

    def __exit__(self, *exc_info):
        stack = _token_stack.get()
        self.variable.reset(stack[-1])
        _token_stack.set(stack[:-1])
        return False


class use_primary(_Scoped):
    """Read from the primary inside the block or the decorated function.

        with use_primary():
            ...
        @use_primary()
        def job(): ...
    """

    variable = _forced_primary

    def value(self):
        return True


class activate(_Scoped):
    """Route the block's reads by `position` (the middleware uses it per request)."""

    variable = _current

    def __init__(self, position):
        self.position = position

    def value(self):
        return self.position


class pinned_to(activate):
    """Carry a pin into background work: reads inside come from a server that
    has replayed `lsn` (a caught-up replica, else the primary)."""

    def __init__(self, lsn):
        super().__init__(ReadPosition(min_lsn=lsn, pinned=True))
