"""docker-compose.yml's PostgreSQL members, checked without a Docker engine:
the image deploy/patroni/Dockerfile builds, and each member's Patroni
configuration loaded by Patroni's own loader (Debian's Patroni, the one the
image installs) from the files the image holds, the configs compose mounts
and the environment compose gives the member: a dry run of its start."""
import ast
import json
import re
import shutil
import subprocess

import pytest

from deploy.stack import system
from tests.deploy import compose_file
from tests.fixtures.cluster import REPO

MEMBERS = ("pg0", "pg1", "pg2", "pg-lagging")
# What a deployment's .env would hold (the secrets compose requires).
SECRETS = {"SECRET_KEY": "s", "POSTGRES_PASSWORD": "app-pw", "REPLICATION_PASSWORD": "repl-pw",
           "REWIND_PASSWORD": "rewind-pw"}


def dockerfile_instructions():
    return compose_file.dockerfile_final_stage(compose_file.PATRONI_DOCKERFILE)


def image_copies():
    """Destination in the image -> source in the repository, of each COPY."""
    copies = {}
    for keyword, rest in dockerfile_instructions():
        if keyword == "COPY":
            *options, source, destination = rest.split()
            copies[destination] = source
    return copies


def config_folder():
    """Where the image's CMD tells Patroni to read its configuration."""
    (command,) = [json.loads(rest) for keyword, rest in dockerfile_instructions() if keyword == "CMD"]
    return command[-1]


@pytest.fixture(scope="module")
def compose():
    return compose_file.load_compose()


@pytest.fixture(scope="module")
def effective(compose, tmp_path_factory):
    """member -> its effective Patroni configuration, as Patroni loads it."""
    loaded = {}
    for name in MEMBERS:
        service = compose["services"][name]
        folder = tmp_path_factory.mktemp(name)
        for destination, source in image_copies().items():
            if destination.startswith(config_folder()):
                shutil.copyfile(REPO / source, folder / destination.rsplit("/", 1)[1])
        for mount in service.get("configs", []):
            content = compose_file.interpolated(compose["configs"][mount["source"]]["content"], SECRETS)
            (folder / mount["target"].rsplit("/", 1)[1]).write_text(content)
        env = {key: compose_file.interpolated(str(value), SECRETS)
               for key, value in service["environment"].items()}
        loader = ("import json, sys; from patroni.config import Config; "
                  "print(json.dumps(Config(sys.argv[1], validator=None).copy(), default=dict))")
        result = subprocess.run(["/usr/bin/python3", "-c", loader, str(folder)], capture_output=True,
                                text=True, env={"PATH": system.SYSTEM_PATH, **env}, check=True)
        loaded[name] = json.loads(result.stdout)
    return loaded


def test_the_image_is_debians_patroni_on_the_official_postgres_image():
    """Check that the members' image is FROM the official postgres:15 image
    (Debian 12 variant), installs Debian's patroni (the local stack's) and
    python3-etcd, and runs Patroni, not the image's entrypoint, as postgres."""
    text = compose_file.PATRONI_DOCKERFILE.read_text()
    assert re.search(r"^ARG POSTGRES_IMAGE=postgres:15-bookworm$", text, re.M)
    assert re.search(r"^ARG PATRONI_RELEASE=bookworm$", text, re.M)
    instructions = dockerfile_instructions()
    assert ("FROM", "${POSTGRES_IMAGE}") in instructions
    [install] = [rest for keyword, rest in instructions if keyword == "RUN" and "apt-get install" in rest]
    assert '"patroni/${PATRONI_RELEASE}"' in install and "python3-etcd" in install
    assert ("USER", "postgres") in instructions
    assert ("ENTRYPOINT", '["patroni"]') in instructions


def test_the_image_holds_the_shared_settings_and_a_working_healthcheck():
    """Check that the image copies cluster.yml (shared with the local stack)
    before compose.yml into the folder Patroni reads, the post-bootstrap script
    where compose.yml calls it, and that its healthcheck is valid Python."""
    copies = image_copies()
    folder = config_folder()
    assert copies[f"{folder}10-cluster.yml"] == "deploy/patroni/cluster.yml"
    assert copies[f"{folder}20-compose.yml"] == "deploy/patroni/compose.yml"
    assert all((REPO / source).is_file() for source in copies.values())
    [check] = [rest for keyword, rest in dockerfile_instructions() if keyword == "HEALTHCHECK"]
    command = json.loads(check[check.index("CMD") + 3:].strip())
    assert command[:2] == ["python3", "-c"]
    ast.parse(command[2])


def test_every_member_is_one_of_one_cluster(effective):
    """Check that the members agree on the cluster (scope, namespace, etcd)
    and each has its own name and addresses, those of its service."""
    assert {(c["scope"], c["namespace"], c["etcd3"]["hosts"]) for c in effective.values()} \
        == {("blog", "/service/", "etcd:2379")}
    assert len({c["name"] for c in effective.values()}) == len(MEMBERS)
    for service, config in effective.items():
        assert config["restapi"]["connect_address"] == f"{service}:8008"
        assert config["postgresql"]["connect_address"] == f"{service}:5432"


def test_every_member_keeps_its_data_in_its_volume(compose, effective):
    """Check that each member's data folder is inside the volume compose mounts for it."""
    for service, config in effective.items():
        [mount] = compose["services"][service]["volumes"]
        volume, target = mount.split(":")
        assert volume == f"{service}-data"
        assert config["postgresql"]["data_dir"].startswith(target + "/")


def test_members_fail_over_safely_and_in_time(effective):
    """Check the cluster-wide settings every member would bootstrap with:
    Patroni's timing rule (a cut-off leader demotes before another is
    promoted) within the failover target, synchronous mode (non-strict) with
    synchronous_commit on, and pg_rewind possible (data checksums)."""
    for config in effective.values():
        dcs = config["bootstrap"]["dcs"]
        assert dcs["loop_wait"] + 2 * dcs["retry_timeout"] <= dcs["ttl"] <= 25
        assert (dcs["synchronous_mode"], dcs["synchronous_mode_strict"]) == (True, False)
        assert dcs["postgresql"]["parameters"]["synchronous_commit"] == "on"
        assert dcs["postgresql"]["use_pg_rewind"] is True
        assert {"data-checksums"} <= {o for o in config["bootstrap"]["initdb"] if isinstance(o, str)}


def test_members_authenticate_with_the_deployments_secrets(effective):
    """Check that replication and pg_rewind log in with the passwords compose
    takes from .env, that pg_hba lets them in, and that the superuser has no
    password (reachable only through the container's socket)."""
    for config in effective.values():
        auth = config["postgresql"]["authentication"]
        assert auth["replication"] == {"username": "replicator", "password": "repl-pw"}
        assert auth["rewind"] == {"username": "rewind", "password": "rewind-pw"}
        assert auth["superuser"] == {"username": "postgres"}
        hba = config["postgresql"]["pg_hba"]
        assert "host replication replicator all scram-sha-256" in hba
        assert "local all postgres peer" in hba


def test_the_first_member_to_start_creates_the_applications_database(compose, effective):
    """Check that bootstrap runs the post-bootstrap script the image installs,
    with the application's role and password from compose."""
    installed = {destination for destination, source in image_copies().items()
                 if source == "deploy/patroni/post-bootstrap.sh"}
    for service, config in effective.items():
        assert config["bootstrap"]["post_bootstrap"] in installed
        environment = compose["services"][service]["environment"]
        assert environment["APP_DB_USER"] == "blog"
        assert compose_file.interpolated(environment["APP_DB_PASSWORD"], SECRETS) == "app-pw"


def test_the_lagging_member_is_never_promoted_nor_synchronous(effective):
    """Check that the lagging demo member carries the tags that keep it out of
    failover and synchronous replication, and its apply delay."""
    lagging = effective["pg-lagging"]
    assert lagging["tags"] == {"nofailover": True, "nosync": True}
    assert lagging["postgresql"]["recovery_conf"] == {"recovery_min_apply_delay": "5s"}
    assert all(not effective[name].get("tags") for name in ("pg0", "pg1", "pg2"))
