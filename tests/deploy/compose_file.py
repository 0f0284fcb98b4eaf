"""Reading docker-compose.yml, .env.example, the Dockerfile and the code's
environment reads the way Docker would, without a Docker engine.

`env_vars_read_by(path)` finds the variables a Python file reads from the
environment by parsing it: `os.environ.get("X")`, `os.environ["X"]`,
`os.getenv("X")`, and calls to the file's own helpers that pass their first
parameter to one of those (settings.py's `env_flag("X")`, `env_list("X")`,
`env_number("X")`), so a new setting or a new helper needs no list updated.
"""
import ast
import re
from pathlib import Path

import yaml

from tests.fixtures.cluster import REPO

COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
DOCKERFILE = REPO / "deploy" / "Dockerfile"
PATRONI_DOCKERFILE = REPO / "deploy" / "patroni" / "Dockerfile"
SCHEMA = REPO / "deploy" / "compose" / "compose-spec.json"
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; not $${...}.
INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def load_compose():
    """The compose file as Docker reads it (YAML merge keys resolved)."""
    return yaml.safe_load(COMPOSE_FILE.read_text())


def interpolations():
    """(name, operator, argument) for every ${...} in the compose file."""
    return INTERPOLATION.findall(COMPOSE_FILE.read_text())


def interpolated(text, values):
    """`text` with each ${...} replaced as compose would, from `values`
    (the .env a deployment has) or else the default the expression carries."""
    def value(match):
        name, operator, argument = match.groups()
        if name in values:
            return values[name]
        if operator and operator.endswith("-"):
            return argument
        raise KeyError(f"${{{name}}} has no value and no default")
    return INTERPOLATION.sub(value, text)


def env_file_assignments(path, include_commented=False):
    """NAME -> value of a dotenv file; optionally also `# NAME=` lines."""
    pattern = re.compile(r"^\s*(#\s*)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
    found = {}
    for line in Path(path).read_text().splitlines():
        match = pattern.match(line)
        if match and (include_commented or not match.group(1)):
            found.setdefault(match.group(2), match.group(3).strip())
    return found


def app_services(compose):
    """The services that run the site's code: those built from deploy/Dockerfile."""
    return {
        name: service for name, service in compose["services"].items()
        if isinstance(service.get("build"), dict)
        and service["build"].get("dockerfile") == "deploy/Dockerfile"
    }


def env_files_of(service):
    """The committed file standing for each env file a service reads
    (.env is made from .env.example, which is what the repository holds)."""
    entries = service.get("env_file") or []
    entries = [entries] if isinstance(entries, str) else entries
    paths = [entry if isinstance(entry, str) else entry["path"] for entry in entries]
    return [ENV_EXAMPLE if path == ".env" else REPO / path for path in paths]


def environment_of(service):
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return {item.split("=", 1)[0] for item in environment}
    return set(environment)


def dockerfile_final_stage(dockerfile=DOCKERFILE):
    """Instructions (keyword, rest) of the Dockerfile's last stage, lines joined."""
    text = re.sub(r"\\\n", " ", Path(dockerfile).read_text())
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if keyword.upper() == "FROM":
            instructions = []
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def image_environment():
    """Variables the image's ENV instructions set (both `ENV A=1 B=2` forms)."""
    names = set()
    for keyword, rest in dockerfile_final_stage():
        if keyword == "ENV":
            names.update(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", rest) or rest.split()[:1])
    return names


def provided_to(service):
    """Every variable a container of this service starts with."""
    provided = environment_of(service)
    for path in env_files_of(service):
        provided |= set(env_file_assignments(path))
    if service.get("build"):
        provided |= image_environment()
    return provided


def settings_env_vars():
    """What the settings read: site/settings.py and the modules of site/ it
    runs at import (e.g. Sentry's start), so every container importing them."""
    names = set()
    for path in sorted((REPO / "site").rglob("*.py")):
        names |= env_vars_read_by(path)
    return names


def env_vars_read_by(path):
    """Names of the environment variables a Python file reads (see module doc)."""
    tree = ast.parse(Path(path).read_text())
    helpers = _env_helpers(tree)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            is_read = _is_environ_read(node.func) or (
                isinstance(node.func, ast.Name) and node.func.id in helpers)
            if is_read and node.args and isinstance(node.args[0], ast.Constant):
                names.add(node.args[0].value)
        elif isinstance(node, ast.Subscript) and _is_environ(node.value):
            if isinstance(node.slice, ast.Constant):
                names.add(node.slice.value)
    return names


def _is_os_attribute(node, name):
    return (isinstance(node, ast.Attribute) and node.attr == name
            and isinstance(node.value, ast.Name) and node.value.id == "os")


def _is_environ(node):
    """os.environ (not a WSGI environ, nor request.environ)."""
    return _is_os_attribute(node, "environ")


def _is_environ_read(func):
    """os.environ.get(...) / os.getenv(...)."""
    return (isinstance(func, ast.Attribute) and func.attr == "get" and _is_environ(func.value)) \
        or _is_os_attribute(func, "getenv")


def _env_helpers(tree):
    """Functions that read the variable named by their first parameter."""
    helpers = set()
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef) or not function.args.args:
            continue
        first = function.args.args[0].arg
        for node in ast.walk(function):
            if (isinstance(node, ast.Call) and _is_environ_read(node.func) and node.args
                    and isinstance(node.args[0], ast.Name) and node.args[0].id == first):
                helpers.add(function.name)
    return helpers
