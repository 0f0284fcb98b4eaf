"""Where the local stacks put their servers (deploy/stack/config.py) and what
each Patroni member is told (deploy/stack/patroni.py), without starting any."""
import pytest

from deploy.stack import config as stack_config
from deploy.stack import patroni


def ports_of(config):
    return [*(p for m in config.members for p in (m.port, m.api_port)),
            config.etcd_port, config.etcd_peer_port, config.redis_port, config.web_port]


@pytest.fixture
def clean_environment(monkeypatch):
    for name in ("STACK_NAME", "STACK_PORT_BASE", "PG_PORT", "REPLICA_PORTS", "REDIS_PORT", "WEB_PORT"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_each_stack_derives_every_port_from_its_base(clean_environment):
    """Check that dev keeps SPEC's ports and that each stack's Patroni APIs
    (base+3..+5) and etcd (base+6, +7) are its own: no port is shared within
    a stack or between the dev, test and bench stacks."""
    stacks = [stack_config.load(name) for name in ("dev", "test", "bench")]
    dev = stacks[0]
    assert ([m.port for m in dev.members], dev.redis_port, dev.web_port) == ([54320, 54321, 54322], 63790, 8000)
    assert [m.api_port for m in dev.members] == [54323, 54324, 54325]
    assert (dev.etcd_port, dev.etcd_peer_port) == (54326, 54327)
    every_port = [port for stack in stacks for port in ports_of(stack)]
    assert len(every_port) == len(set(every_port))


def test_test_and_bench_ports_stay_below_the_ephemeral_range(clean_environment):
    """Check that a STACK_PORT_BASE stack keeps every port below 32768, where
    no client socket can take a server's port while it restarts."""
    clean_environment.setenv("STACK_PORT_BASE", "27320")
    for name in ("test", "bench"):
        assert max(ports_of(stack_config.load(name))) < 32768


def test_a_replica_port_on_a_derived_port_is_refused(clean_environment):
    """Check that REPLICA_PORTS onto Patroni's API ports fails at once, clearly."""
    clean_environment.setenv("REPLICA_PORTS", "54323,54324")
    with pytest.raises(SystemExit, match="used twice"):
        stack_config.load("dev")


def test_members_are_named_by_port_and_by_patroni(clean_environment):
    """Check that primary, replica1, replica2 and pg0, pg1, pg2 name the
    members on the first, second and third port."""
    config = stack_config.load("dev")
    assert [(m.alias, m.name, m.port) for m in config.members] == [
        ("primary", "pg0", 54320), ("replica1", "pg1", 54321), ("replica2", "pg2", 54322)]
    assert config.member("replica2") == config.member("pg2")
    with pytest.raises(SystemExit, match="unknown member"):
        config.member("replica3")


def test_a_members_own_settings_carry_its_ports_data_and_delay(clean_environment):
    """Check what 30-member.yml tells a member: its ports, its data folder in
    the stack's state folder, and the apply delay it uses while a standby."""
    config = stack_config.load("dev")
    member = config.member("replica1")
    settings = patroni.member_settings(config, member, "2s", tags={"nosync": True})
    assert settings["name"] == "pg1"
    assert settings["restapi"]["listen"] == "127.0.0.1:54324"
    assert settings["postgresql"]["listen"] == "127.0.0.1:54321"
    assert settings["postgresql"]["data_dir"] == str(config.state_dir / "pg1")
    assert settings["postgresql"]["recovery_conf"] == {"recovery_min_apply_delay": "2s"}
    assert settings["tags"] == {"nosync": True}


def test_the_stack_and_compose_share_one_cluster_file():
    """Check that the local stack's members read deploy/patroni/cluster.yml,
    the file the compose image also holds."""
    assert patroni.CLUSTER_SETTINGS == stack_config.REPO / "deploy" / "patroni" / "cluster.yml"
    dockerfile = (stack_config.REPO / "deploy" / "patroni" / "Dockerfile").read_text()
    assert "COPY deploy/patroni/cluster.yml " in dockerfile
