"""Replica health (placeholder until the routing issue lands)."""


def start_polling():
    """Start this process's health poller (call after gunicorn forks)."""
