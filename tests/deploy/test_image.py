"""deploy/Dockerfile, checked without a Docker engine: what it promises
(slim multi-stage build, non-root, version, static files, healthcheck,
gunicorn) and that the packages it installs are all the code needs."""
import ast
import importlib.metadata
import os
import re
import subprocess
import sys

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.compose_file import DOCKERFILE, dockerfile_final_stage
from tests.fixtures.cluster import REPO

IMAGE_REQUIREMENTS = REPO / "deploy" / "requirements-image.txt"
# Left out of the image by .dockerignore, or never run in it.
NOT_IN_IMAGE = {"tests", "bench", ".venv", ".state", ".git", "staticfiles", "node_modules"}


def names_in(path):
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def pinned_versions():
    """Canonical name -> version of every `name==version` in requirements.txt."""
    pins = {}
    for line in names_in(REPO / "requirements.txt"):
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", line
        pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


def installed_by_image():
    """The image's packages and, recursively, their dependencies (Linux, this Python)."""
    pending = [canonicalize_name(Requirement(n).name) for n in names_in(IMAGE_REQUIREMENTS)]
    seen = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        for text in importlib.metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(canonicalize_name(requirement.name))
    return seen


def runtime_sources():
    return [path for path in REPO.rglob("*.py")
            if not NOT_IN_IMAGE & set(path.relative_to(REPO).parts)]


def first_party():
    return {path.name.removesuffix(".py") for path in [*REPO.iterdir(), *(REPO / "site").iterdir()]}


def imported_top_level(path):
    """Top-level module names a file imports, plus those settings.py names in
    dotted strings ("django_redis.cache.RedisCache", "whitenoise.middleware...")."""
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
        elif (path.name == "settings.py" and isinstance(node, ast.Constant) and isinstance(node.value, str)
              and re.fullmatch(r"[a-z_]+(\.[A-Za-z_]+)+", node.value)):
            names.add(node.value.split(".")[0])
    return names


def third_party_distributions():
    """Distribution -> files for every installed package the image's code uses."""
    providers = importlib.metadata.packages_distributions()
    local, needed = first_party(), {}
    for path in runtime_sources():
        for module in imported_top_level(path) - local - set(sys.stdlib_module_names):
            for distribution in providers.get(module, []):
                needed.setdefault(canonicalize_name(distribution), set()).add(str(path.relative_to(REPO)))
    return needed


def test_every_package_the_code_imports_is_installed_in_the_image():
    """Check that each third-party package the site's code imports (or settings
    names) is in deploy/requirements-image.txt or a dependency of one there."""
    needed = third_party_distributions()
    assert {"django", "whitenoise", "django-redis", "psycopg2-binary"} <= set(needed)
    installed = installed_by_image()
    missing = {name: sorted(files) for name, files in needed.items() if name not in installed}
    assert missing == {}
    assert "gunicorn" in installed  # the image's command, imported by no module


def test_the_image_installs_only_pinned_versions():
    """Check that every package the image installs, dependencies included, is
    pinned with == in requirements.txt (the build's constraints file)."""
    pins = pinned_versions()
    assert sorted(installed_by_image() - set(pins)) == []


def test_the_image_leaves_test_tools_out():
    """Check that the image's list has no test-only package."""
    image = installed_by_image()
    assert not image & {"pytest", "pytest-django", "playwright", "factory-boy", "jsonschema"}


def test_dockerfile_builds_a_slim_non_root_image_with_its_version_and_static_files():
    """Check the Dockerfile's promises: python:3.11-slim, two stages (wheels
    built once), APP_VERSION from a build argument, collectstatic at build
    time, a non-root user, the /healthz healthcheck and gunicorn with the config."""
    text = DOCKERFILE.read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim$", text, re.M)
    assert len(re.findall(r"^FROM ", text, re.M)) == 2
    assert "pip wheel" in text and "--no-index --find-links /wheels" in text
    final = dockerfile_final_stage()
    keywords = [keyword for keyword, _ in final]
    runs = " ".join(rest for keyword, rest in final if keyword == "RUN")
    assert ("ARG", "APP_VERSION=dev") in final and ("ENV", "APP_VERSION=${APP_VERSION}") in final
    assert "manage.py collectstatic --noinput" in runs
    users = [rest for keyword, rest in final if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert keywords.index("USER") < keywords.index("CMD")
    healthcheck = dict(final)["HEALTHCHECK"]
    assert 'CMD ["python", "deploy/healthcheck.py"]' in healthcheck
    assert dict(final)["CMD"] == '["gunicorn", "-c", "deploy/gunicorn.conf.py", "--bind", "0.0.0.0:8000"]'


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_build():
    """Check that .env, git, the venv and local stack state never enter the
    build context, while what the Dockerfile copies stays in."""
    ignored = set(names_in(REPO / ".dockerignore"))
    assert {".env", ".git", ".venv", ".state", "tests"} <= ignored
    for needed in ("requirements.txt", "deploy", "site", "manage.py"):
        assert needed not in ignored


def test_the_image_build_steps_need_no_server(tmp_path):
    """Check that the Dockerfile's build-time steps, collectstatic and the
    import of the WSGI application, succeed with every server unreachable
    (nothing runs beside `docker build`)."""
    unreachable = {
        "PATH": os.environ["PATH"], "SECRET_KEY": "build-time-only-not-a-secret",
        "DATABASE_URL": "postgres://blog@127.0.0.1:1/blog", "REPLICA_URLS": "postgres://blog@127.0.0.1:1/blog",
        "REDIS_URL": "redis://127.0.0.1:1/0", "STATIC_ROOT": str(tmp_path / "static"),
    }
    steps = [
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        [sys.executable, "-c", "import import_path; import_path.use(); import wsgi"],
    ]
    for step in steps:
        result = subprocess.run(step, cwd=REPO, env=unreachable, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()  # the manifest of hashed names
