"""Invalidation by tags, on commit, stamped with the primary's WAL position.

A tag's record in Redis is the primary's LSN at the newest invalidation:
a cached page is valid only if it was rendered from a snapshot at or past
the record of every tag it shows. Cost: O(number of tags), no key scans.
"""
import logging

from django.db import transaction

from routing import PRIMARY

logger = logging.getLogger(__name__)


def invalidate(*tags, using=PRIMARY):
    """Invalidate every cached page showing any of `tags`, once the current
    transaction on `using` commits (at once outside a transaction)."""
    tags = tuple(sorted(set(tags)))
    if tags:
        transaction.on_commit(lambda: record_invalidation(tags), using=using)


def record_invalidation(tags):
    from . import store  # the store needs Django's settings; import late

    store.record_invalidation(tags)
