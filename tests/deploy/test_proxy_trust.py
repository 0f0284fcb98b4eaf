"""deploy/proxy_trust.py: gunicorn's answer to "is this peer a trusted
proxy", remembered per process: always the answer gunicorn's own check
gives, for any address and allow list, first time or remembered."""
import ipaddress

import pytest
from gunicorn.http import message
from hypothesis import given, settings
from hypothesis import strategies as st

from deploy import proxy_trust

ADDRESS = st.one_of(
    st.ip_addresses().map(str),
    st.sampled_from(["127.0.0.1", "10.0.0.7", "::1", "", "not an address", "127.0.0.1 ", "1.2.3.4%eth0", "[::1]"]),
)
ALLOW_LIST = st.lists(st.sampled_from(["127.0.0.1", "10.0.0.0/8", "192.0.2.10", "::1", "2001:db8::/32", "*"]),
                      max_size=3)


@pytest.fixture(autouse=True)
def fresh_memory():
    proxy_trust._answers.clear()


def networks_of(allow_list):
    return [ipaddress.ip_network(address) for address in allow_list if address != "*"]


@settings(max_examples=300, derandomize=True, deadline=None)
@given(addresses=st.lists(ADDRESS, min_size=1, max_size=6), allow_list=ALLOW_LIST)
def test_the_answer_is_gunicorns_first_time_and_remembered(addresses, allow_list):
    networks = networks_of(allow_list)
    for address in addresses + addresses:  # the second pass is remembered
        expected = proxy_trust._gunicorns_check(address, allow_list, networks)
        assert proxy_trust.ip_in_allow_list(address, allow_list, networks) is expected


def test_an_answer_is_never_taken_for_another_network_list():
    """Remembered answers are keyed by the list's identity: were a list to
    be freed and another made at its address, the answer kept for the old
    one must not be given for the new one."""
    trusting, distrusting = networks_of(["127.0.0.0/8"]), networks_of(["192.0.2.10"])
    proxy_trust._answers[("127.0.0.1", id(distrusting))] = (trusting, True)  # as if at the same address
    assert proxy_trust.ip_in_allow_list("127.0.0.1", ["192.0.2.10"], distrusting) is False


def test_the_memory_stays_bounded(monkeypatch):
    monkeypatch.setattr(proxy_trust, "REMEMBERED_PEERS", 8)
    networks = networks_of(["10.0.0.0/8"])
    for host in range(50):
        assert proxy_trust.ip_in_allow_list(f"10.0.0.{host}", ["10.0.0.0/8"], networks) is True
    assert len(proxy_trust._answers) <= 8


def test_install_puts_it_where_gunicorns_parser_looks(monkeypatch):
    monkeypatch.setattr(message, "_ip_in_allow_list", proxy_trust._gunicorns_check)
    proxy_trust.install()
    assert message._ip_in_allow_list is proxy_trust.ip_in_allow_list
