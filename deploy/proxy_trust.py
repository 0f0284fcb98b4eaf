"""gunicorn's check of whether a peer is a trusted proxy (FORWARDED_ALLOW_IPS,
and the PROXY protocol's list), remembered per worker process.

gunicorn asks it for every request: it parses the peer's address with
`ipaddress.ip_address` and tests it against each allowed network. A py-spy
profile of a cached hit put that at 8 % of a worker's samples (issue #17,
docs/benchmarks.md), for an answer that depends only on the address and the
configured networks, neither of which changes while a worker lives.

The answer is gunicorn's own, computed once per (address, network list)
and then looked up. The network list is matched by identity and kept
alive by the memory, so a different list can never be mistaken for it.
At most REMEMBERED_PEERS answers are kept; past that the memory starts
afresh (a site served without a proxy sees many client addresses: each
costs gunicorn's check once more, never a wrong answer).

    proxy_trust.install()    # in a worker process (deploy/worker_process.py)
"""
from gunicorn.http import message

REMEMBERED_PEERS = 4096

_gunicorns_check = message._ip_in_allow_list
_answers = {}   # (address, id(networks)) -> (networks, whether the address is allowed)


def ip_in_allow_list(ip_str, allow_list, networks):
    """gunicorn's `_ip_in_allow_list`, remembered."""
    key = (ip_str, id(networks))
    found = _answers.get(key)
    if found is not None and found[0] is networks:
        return found[1]
    allowed = _gunicorns_check(ip_str, allow_list, networks)
    if len(_answers) >= REMEMBERED_PEERS:
        _answers.clear()
    _answers[key] = (networks, allowed)
    return allowed


def install():
    """gunicorn's request parser looks the function up by name on each call."""
    message._ip_in_allow_list = ip_in_allow_list
