"""Where the local stacks put their servers (deploy/stack/config.py) and what
each Patroni member is told (deploy/stack/patroni.py), without starting any."""
import pytest

from deploy.stack import config as stack_config
from deploy.stack import patroni, system


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
    every_port = [port for stack in stacks for port in stack.ports]
    assert len(every_port) == len(set(every_port))


def test_test_and_bench_ports_stay_below_the_ephemeral_range(clean_environment):
    """Check that a STACK_PORT_BASE stack keeps every port below 32768, where
    no client socket can take a server's port while it restarts."""
    clean_environment.setenv("STACK_PORT_BASE", "27320")
    for name in ("test", "bench"):
        assert max(stack_config.load(name).ports) < 32768


@pytest.fixture
def kernel_port_files(tmp_path, monkeypatch):
    """Stand-ins for /proc/sys/net/ipv4's ephemeral range and reserved list."""
    ephemeral, reserved = tmp_path / "ip_local_port_range", tmp_path / "ip_local_reserved_ports"
    ephemeral.write_text("32768\t60999\n")
    reserved.write_text("8080,54320-54321\n")
    monkeypatch.setattr(system, "EPHEMERAL_RANGE", ephemeral)
    monkeypatch.setattr(system, "RESERVED_PORTS", reserved)
    return reserved


def test_dev_ports_in_the_ephemeral_range_are_reserved_and_others_kept(kernel_port_files, clean_environment):
    """Check that `up` adds the dev stack's ports that a client socket could
    take (54322-54327) to the kernel's reserved list, keeps what was there,
    and leaves out ports outside the range (Redis's 63790, the site's 8000)
    or already listed (54320-54321)."""
    system.keep_clients_off(stack_config.load("dev").ports)
    assert kernel_port_files.read_text() == "8080,54320-54321,54322,54323,54324,54325,54326,54327"
    system.keep_clients_off(stack_config.load("dev").ports)
    assert kernel_port_files.read_text().count("54322") == 1


def test_without_the_kernels_port_settings_the_stack_goes_on(kernel_port_files, monkeypatch):
    """Check that where /proc has no such settings (another kernel, a
    restricted container) `up` reserves nothing and does not fail."""
    monkeypatch.setattr(system, "EPHEMERAL_RANGE", kernel_port_files.parent / "absent")
    system.keep_clients_off([54322])
    assert kernel_port_files.read_text() == "8080,54320-54321\n"


def test_without_the_right_to_reserve_ports_the_stack_says_how(kernel_port_files, monkeypatch, capsys):
    """Check that a user who may not write the reserved list is told the
    sysctl command to run (keeping what is listed), and the stack goes on."""
    def refuse(path, text):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(type(kernel_port_files), "write_text", refuse)
    system.keep_clients_off([54322, 63790])
    assert "sysctl -w net.ipv4.ip_local_reserved_ports=8080,54320-54321,54322\n" in capsys.readouterr().err


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


def test_a_port_a_client_connection_took_is_told_apart_from_a_listening_one():
    """Check that a port held by an outgoing connection (nothing listens, yet
    it cannot be bound) is recognised, where a listening port is not."""
    import socket

    with socket.create_server(("127.0.0.1", 0)) as server:
        listening = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", listening))
        accepted, _ = server.accept()
        taken = client.getsockname()[1]  # the client's own port: nothing listens on it
        with client, accepted:
            assert system.held_by_a_connection(taken)
            assert not system.held_by_a_connection(listening)
