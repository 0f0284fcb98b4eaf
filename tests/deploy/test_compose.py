"""docker-compose.yml is a valid Compose file that gives every service what it
needs: checked without a Docker engine, against the Compose specification's
schema and against the code itself (see compose_file.py)."""
import json
import re

import jsonschema
import pytest
import yaml

from tests.deploy import compose_file
from tests.fixtures.cluster import REPO

SETTINGS = REPO / "site" / "settings.py"


@pytest.fixture(scope="module")
def compose():
    return compose_file.load_compose()


def test_compose_file_is_valid_against_the_compose_specification(compose):
    """Check that docker-compose.yml validates against the Compose JSON schema."""
    schema = json.loads(compose_file.SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(compose), key=str)
    assert errors == [], "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_the_schema_check_catches_a_broken_compose_file(compose):
    """Check that the schema rejects a typo'd key and a wrong depends_on condition
    (so a passing validation means something)."""
    validator = jsonschema.Draft7Validator(json.loads(compose_file.SCHEMA.read_text()))
    typo = {**compose, "services": {**compose["services"], "web": {**compose["services"]["web"], "port": ["8000"]}}}
    web = compose["services"]["web"]
    wrong_condition = {**compose, "services": {**compose["services"], "web": {
        **web, "depends_on": {"migrate": {"condition": "service_finished"}}}}}
    assert list(validator.iter_errors(typo))
    assert list(validator.iter_errors(wrong_condition))


def test_the_environment_parser_finds_the_settings_variables():
    """Check that parsing settings.py finds variables read all three ways
    (os.environ.get, and the env_flag / env_list / env_number helpers)."""
    found = compose_file.env_vars_read_by(SETTINGS)
    assert {"DATABASE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "PIN_MAX_AGE",
            "REPLICA_URLS", "REDIS_URL", "HTTPS"} <= found


def test_every_setting_variable_reaches_every_service_that_runs_the_code(compose):
    """Check that web, migrate and the scheduler each get every variable the
    settings read (site/settings.py and the site/ modules it runs, such as
    Sentry's start), from the env file, `environment` or the image."""
    services = compose_file.app_services(compose)
    assert sorted(services) == ["migrate", "scheduler", "web"]
    read = compose_file.settings_env_vars()
    assert compose_file.env_vars_read_by(SETTINGS) <= read
    missing = {name: sorted(read - compose_file.provided_to(service))
               for name, service in services.items()}
    assert missing == {name: [] for name in services}


@pytest.mark.parametrize("service, program", [
    ("web", "deploy/gunicorn.conf.py"),
    ("scheduler", "deploy/scheduler.py"),
])
def test_process_settings_reach_their_service(compose, service, program):
    """Check that the variables gunicorn's config and the scheduler read are
    provided (and so documented in .env.example) to the service running them."""
    read = compose_file.env_vars_read_by(REPO / program)
    assert read, f"no environment reads found in {program}"
    provided = compose_file.provided_to(compose["services"][service])
    assert sorted(read - provided - {"DJANGO_SETTINGS_MODULE"}) == []


def test_every_interpolated_variable_is_named_in_the_env_example():
    """Check that each ${VAR} of docker-compose.yml appears in .env.example
    (as a line, or a commented line when compose has a default for it)."""
    documented = compose_file.env_file_assignments(compose_file.ENV_EXAMPLE, include_commented=True)
    set_lines = compose_file.env_file_assignments(compose_file.ENV_EXAMPLE)
    for name, operator, _ in compose_file.interpolations():
        assert name in documented, f"${{{name}}} is not in .env.example"
        if operator.endswith("?"):  # required: must be a real line to fill in
            assert name in set_lines, f"required {name} must be a line of .env.example"


def test_env_example_holds_no_secret():
    """Check that the variables compose requires (the secrets) are empty in
    the committed .env.example, and that it serves plain HTTP."""
    values = compose_file.env_file_assignments(compose_file.ENV_EXAMPLE)
    required = {name for name, operator, _ in compose_file.interpolations() if operator.endswith("?")}
    assert {"SECRET_KEY", "POSTGRES_PASSWORD", "REPLICATION_PASSWORD", "REWIND_PASSWORD"} <= required
    assert {name: values[name] for name in required} == {name: "" for name in required}
    assert values["HTTPS"] == "off" and values["DEBUG"] == "off"


def test_env_example_does_not_override_the_image_version():
    """Check that APP_VERSION, baked into the image at build time, is not a
    line of .env (which would replace it in every container)."""
    assert "APP_VERSION" in compose_file.image_environment()
    assert "APP_VERSION" not in compose_file.env_file_assignments(compose_file.ENV_EXAMPLE)


def test_healthy_conditions_point_at_services_with_a_healthcheck(compose):
    """Check that every `service_healthy` dependency has a healthcheck to wait
    for (the HEALTHCHECK of the Dockerfile a service is built from counts)."""
    for name, service in compose["services"].items():
        for target, dependency in (service.get("depends_on") or {}).items():
            if dependency["condition"] != "service_healthy":
                continue
            check = compose["services"][target].get("healthcheck")
            build = compose["services"][target].get("build")
            image_has_check = bool(build) and any(
                keyword == "HEALTHCHECK"
                for keyword, _ in compose_file.dockerfile_final_stage(REPO / build["dockerfile"]))
            has_check = (check and not check.get("disable")) or (check is None and image_has_check)
            assert has_check, f"{name} waits for {target} to be healthy, but it has no healthcheck"


def test_site_starts_after_a_successful_one_shot_migration(compose):
    """Check that migrate runs once, when every database member is healthy
    (the cluster has a leader), and that web and the scheduler start only
    after it completed successfully."""
    services = compose["services"]
    assert services["migrate"]["command"][:3] == ["python", "manage.py", "migrate"]
    assert services["migrate"]["restart"] == "no"
    assert {member: dependency["condition"] for member, dependency in services["migrate"]["depends_on"].items()} \
        == {"pg0": "service_healthy", "pg1": "service_healthy", "pg2": "service_healthy"}
    for name in ("web", "scheduler"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["scheduler"]["command"] == ["python", "deploy/scheduler.py"]


def test_the_lagging_member_runs_only_under_its_profile(compose):
    """Check that the demo's lagging member is opt-in (the only service with a
    profile), applies WAL late and is never promoted nor synchronous."""
    lagging = compose["services"]["pg-lagging"]
    assert lagging["profiles"] == ["lagging"]
    assert all("profiles" not in s for name, s in compose["services"].items() if name != "pg-lagging")
    [mounted] = lagging["configs"]
    settings = yaml.safe_load(compose_file.interpolated(compose["configs"][mounted["source"]]["content"], {}))
    assert settings["postgresql"]["recovery_conf"]["recovery_min_apply_delay"] == "5s"
    assert settings["tags"] == {"nofailover": True, "nosync": True}


def test_redis_evicts_only_keys_with_a_ttl(compose):
    """Check that Redis has a memory cap and the volatile-lru policy, so
    invalidation records (no TTL) are never evicted."""
    command = compose["services"]["redis"]["command"]
    assert compose["services"]["redis"]["image"] == "redis:7"
    assert command[command.index("--maxmemory-policy") + 1] == "volatile-lru"
    assert command[command.index("--maxmemory") + 1]


def test_only_official_images_are_used(compose):
    """Check that the servers are official images: Redis's and etcd's own, and
    the database members' image built FROM the official postgres one."""
    images = {s.get("image") for s in compose["services"].values()}
    assert not [i for i in images if i and "bitnami" in i]
    assert {"redis:7", "quay.io/coreos/etcd:v3.5.17"} <= images
    base = re.search(r"^ARG POSTGRES_IMAGE=(\S+)$", compose_file.PATRONI_DOCKERFILE.read_text(), re.M).group(1)
    assert base.startswith("postgres:15")


def test_the_site_is_published_on_loopback_only(compose):
    """Check that compose serves plain HTTP on 127.0.0.1 by default."""
    ports = compose["services"]["web"]["ports"]
    assert ports and all(str(p).startswith("127.0.0.1:") for p in ports)


def test_files_the_compose_file_names_exist(compose):
    """Check that every bind mount, config file and Dockerfile it names is in the repository."""
    paths = [config["file"] for config in compose.get("configs", {}).values() if "file" in config]
    for service in compose["services"].values():
        paths += [v.split(":")[0] for v in service.get("volumes", []) if v.startswith("./")]
        if service.get("build"):
            paths.append(service["build"]["dockerfile"])
    assert paths
    assert [p for p in paths if not (REPO / p).is_file()] == []
