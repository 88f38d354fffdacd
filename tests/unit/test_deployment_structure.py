"""The container deployment (Dockerfile, docker-compose.yml, deploy/) hangs together.

No container engine is needed: the files are parsed, cross-checked against each other and against the code
(the env vars it reads, the `novora` click group, Dagster's own config schemas), and every command the
deployment runs is checked to exist, with the flags it is given, by running it with ``--help`` from this
environment's bin directory (the image installs the same packages).
"""

from __future__ import annotations

import ast
import fnmatch
import json
import re
import shlex
import subprocess
import sys
import tomllib
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent

PYTHON_SERVICES = {"init", "user_code", "webserver", "daemon", "app"}
EXPECTED_SERVICES = PYTHON_SERVICES | {"postgres", "mailpit"}
LONG_RUNNING_WITH_HEALTHCHECK = {"postgres", "user_code", "webserver", "daemon", "app", "mailpit"}
VALID_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}
PASSWORD_EXPR = "${NOVORA_DB_PASSWORD:-novora}"
APP_PASSWORD_EXPR = "${NOVORA_APP_DB_PASSWORD:-novora-app}"

# Variables the code reads that may stay unset in the deployment (each with a reason).
OPTIONAL_ENV = {
    "NOVORA_DEBUG": "shows tracebacks; off in production",
    "NOVORA_EMBEDDING_MODEL_PATH": "empty means the embedding model packaged in the image",
    "NOVORA_EXECUTOR": "empty means Dagster's default executor; deploy/kubernetes sets k8s",
    "NOVORA_MAX_CONCURRENT_STEPS": "empty means as many steps at once as the run worker has cores",
    "NOVORA_EMBEDDING_GPUS": "only read when NOVORA_EMBEDDING_DEVICE is cuda (Kubernetes)",
}


# ------------------------------------------------------------------------------------------- loading


@cache
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def services() -> dict:
    return compose()["services"]


def environment(service: str) -> dict[str, str]:
    env = services()[service].get("environment") or {}
    if isinstance(env, list):  # KEY=VALUE form
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def interpolate(value: str) -> str:
    """What `docker compose` makes of ``${VAR:-default}`` when neither the shell nor .env sets VAR."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", lambda m: m.group(1), value)


def command(service: str) -> list[str]:
    cmd = services()[service]["command"]
    return shlex.split(cmd) if isinstance(cmd, str) else list(cmd)


def shell_commands(argv: list[str]) -> list[list[str]]:
    """`sh -c "a && b"` -> [[a...], [b...]]; any other command is itself."""
    if argv[:2] == ["sh", "-c"]:
        return [shlex.split(part) for part in re.split(r"&&|;", argv[2]) if part.strip()]
    return [argv]


def healthcheck_argv(service: str) -> list[str]:
    test = services()[service]["healthcheck"]["test"]
    if isinstance(test, str):
        return ["CMD-SHELL", test]
    return list(test)


def container_ports(service: str) -> set[int]:
    ports = set()
    for spec in services()[service].get("ports", []):
        spec = str(spec["target"]) if isinstance(spec, dict) else str(spec)
        ports.add(int(spec.rsplit(":", 1)[-1].split("/")[0]))
    return ports


@cache
def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        joined.append(current)
        current = ""
    out = []
    for text in joined:
        word, _, rest = text.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in dockerfile_instructions():
        if word == "ENV":
            for token in shlex.split(rest):
                key, _, value = token.partition("=")
                env[key] = value
    return env


def dockerfile_copies() -> list[tuple[int, list[str], str]]:
    """(index, sources, destination) of every COPY, options dropped."""
    out = []
    for i, (word, rest) in enumerate(dockerfile_instructions()):
        if word == "COPY":
            parts = [p for p in shlex.split(rest) if not p.startswith("--")]
            out.append((i, parts[:-1], parts[-1]))
    return out


def copy_destination(source: str) -> str | None:
    for _, sources, dest in dockerfile_copies():
        if source in sources or source.rstrip("/") in [s.rstrip("/") for s in sources]:
            return dest
    return None


# ------------------------------------------------------------------------------------------- CLI checks


# One interpreter runs every console script the deployment uses with `--help` (as its bin/ wrapper would:
# the entry point called with sys.argv set), so Dagster is imported once rather than once per command.
_HELP_PROBE = r"""
import contextlib, io, json, sys
from importlib.metadata import entry_points
scripts = {ep.name: ep for ep in entry_points(group="console_scripts")}
out = {}
for head in json.loads(sys.argv[1]):
    buf, rc = io.StringIO(), 0
    try:
        main = scripts[head[0]].load()
        sys.argv = [head[0], *head[1:], "--help"]
        with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
            try:
                main()
            except SystemExit as exc:
                rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception as exc:
        rc = 1
        buf.write(f"{type(exc).__name__}: {exc}")
    out[" ".join(head)] = [rc, buf.getvalue()]
print(json.dumps(out))
"""


def help_texts_for(heads: list[tuple[str, ...]], tmp: Path) -> dict[tuple[str, ...], tuple[int, str]]:
    missing = [h for h in heads if not (BIN / h[0]).exists()]
    assert not missing, f"not installed in {BIN}: {sorted({h[0] for h in missing})}"
    result = subprocess.run([sys.executable, "-c", _HELP_PROBE, json.dumps([list(h) for h in heads])],
                            capture_output=True, text=True, timeout=120, cwd=tmp,
                            env={"PATH": str(BIN), "HOME": str(tmp), "DAGSTER_DISABLE_TELEMETRY": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    texts = json.loads(result.stdout)
    return {h: tuple(texts[" ".join(h)]) for h in heads}


def split_command(argv: list[str]) -> tuple[tuple[str, ...], list[str]]:
    """Executable and sub-commands (up to the first flag or file argument), and the flags used."""
    head = [argv[0]]
    for token in argv[1:]:
        if token.startswith("-") or "/" in token or "." in token:
            break
        head.append(token)
    flags = [t for t in argv[len(head):] if t.startswith("-")]
    return tuple(head), flags


def cli_commands() -> list[list[str]]:
    """Every command the deployment runs through dagster / streamlit (service commands and healthchecks)."""
    out = []
    for name in sorted(PYTHON_SERVICES):
        for argv in shell_commands(command(name)):
            if argv[0] != "novora":
                out.append(argv)
        hc = services()[name].get("healthcheck")
        if hc:
            argv = healthcheck_argv(name)
            if argv[0] == "CMD" and argv[1] != "python":
                out.append(argv[1:])
    return out


@pytest.fixture(scope="module")
def help_texts(tmp_path_factory) -> dict[tuple[str, ...], tuple[int, str]]:
    heads = sorted({split_command(argv)[0] for argv in cli_commands()} | {("dagster", "no-such-command")})
    return help_texts_for(heads, tmp_path_factory.mktemp("help"))


# ------------------------------------------------------------------------------------------- services


@cache
def compose_spec_validator():
    """The Compose Specification's JSON schema, as vendored by check-jsonschema (a dev dependency)."""
    import importlib.resources

    import jsonschema

    schema = json.loads(importlib.resources.files("check_jsonschema.builtin_schemas.vendor")
                        .joinpath("compose-spec.json").read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    return validator(schema)


def spec_errors(document: dict) -> list[str]:
    return sorted(f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
                  for e in compose_spec_validator().iter_errors(document))


def test_compose_file_validates_against_the_compose_specification():
    assert spec_errors(compose()) == []


@pytest.mark.parametrize(("path", "value", "error"), [
    (("services", "postgres", "restart"), 7, "services.postgres.restart: 7 is not of type 'string'"),
    (("services", "app", "depends_on", "postgres", "condition"), "service_ready",
     "services.app.depends_on: {'postgres': {'condition': 'service_ready'}"),
    (("services", "daemon", "helthcheck"), {"test": ["CMD", "true"]},
     "services.daemon: Unevaluated properties are not allowed ('helthcheck' was unexpected)"),
])
def test_the_specification_check_catches_a_broken_file(path, value, error):
    broken = yaml.safe_load(COMPOSE_FILE.read_text())
    node = broken
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    assert any(e.startswith(error) for e in spec_errors(broken)), spec_errors(broken)


def test_every_service_exists():
    assert set(services()) >= EXPECTED_SERVICES, f"missing: {sorted(EXPECTED_SERVICES - set(services()))}"


def test_images_and_builds():
    assert services()["postgres"]["image"] == "pgvector/pgvector:pg16"
    assert services()["mailpit"]["image"].split(":")[0] == "axllent/mailpit"
    images = set()
    for name in PYTHON_SERVICES:
        svc = services()[name]
        build = svc.get("build")
        assert build, f"{name} must build the project image"
        context = ROOT / (build if isinstance(build, str) else build.get("context", "."))
        dockerfile = context / ("Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile"))
        assert dockerfile.resolve() == DOCKERFILE, f"{name} builds {dockerfile}"
        images.add(svc.get("image"))
    assert len(images) == 1 and None not in images, f"Python services should share one image tag: {images}"


def test_depends_on_names_existing_services_with_valid_conditions():
    for name, svc in services().items():
        deps = svc.get("depends_on") or {}
        if isinstance(deps, list):
            deps = {d: {"condition": "service_started"} for d in deps}
        for dep, spec in deps.items():
            assert dep in services(), f"{name} depends on unknown service {dep}"
            condition = spec.get("condition", "service_started")
            assert condition in VALID_CONDITIONS, f"{name} -> {dep}: bad condition {condition}"
            if condition == "service_healthy":
                assert "healthcheck" in services()[dep], f"{name} waits for {dep} healthy, which has no healthcheck"
            if condition == "service_completed_successfully":
                assert services()[dep].get("restart", "no") == "no", f"{dep} is one-shot; it must not restart"


def _deps(name: str) -> dict[str, str]:
    deps = services()[name].get("depends_on") or {}
    return {d: (s or {}).get("condition", "service_started") for d, s in deps.items()}


def test_start_order():
    assert _deps("init") == {"postgres": "service_healthy"}
    for name in ("user_code", "webserver", "daemon", "app"):
        assert _deps(name).get("postgres") == "service_healthy", name
        assert _deps(name).get("init") == "service_completed_successfully", name
    for name in ("webserver", "daemon"):
        assert _deps(name).get("user_code") == "service_healthy", name


def test_no_dependency_cycles():
    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"cycle: {' -> '.join((*path, name))}"
        for dep in _deps(name):
            visit(dep, (*path, name))

    for name in services():
        visit(name, ())


def test_healthchecks_where_promised():
    for name in LONG_RUNNING_WITH_HEALTHCHECK:
        assert "healthcheck" in services()[name], f"{name} has no healthcheck"
    assert "healthcheck" not in services()["init"]

    pg = " ".join(healthcheck_argv("postgres"))
    assert "pg_isready" in pg and "-U novora" in pg
    assert healthcheck_argv("user_code")[1:] == ["dagster", "api", "grpc-health-check", "-p", "4000"]
    assert healthcheck_argv("daemon")[1:] == ["dagster-daemon", "liveness-check"]
    assert healthcheck_argv("mailpit")[1:] == ["/mailpit", "readyz"]
    for name, url in (("webserver", "http://localhost:3000/server_info"),
                      ("app", "http://localhost:8501/_stcore/health")):
        argv = healthcheck_argv(name)
        assert argv[:3] == ["CMD", "python", "-c"], f"{name}: slim images have no curl; use python"
        assert url in argv[3], f"{name} healthcheck should fetch {url}"
        compile(argv[3], f"<{name} healthcheck>", "exec")


def test_ports():
    assert container_ports("webserver") == {3000}
    assert container_ports("app") == {8501}
    assert container_ports("mailpit") == {8025, 1025}
    for name in ("postgres", "user_code", "daemon", "init"):
        assert not container_ports(name), f"{name} should not be published on the host"
    assert "-p 3000" in " ".join(command("webserver"))
    assert "--server.port 8501" in " ".join(command("app"))


# ------------------------------------------------------------------------------------------- environment


def env_vars_read_by_code() -> set[str]:
    """NOVORA_* / DAGSTER_HOME names read with env.get(...), environ.get(...), environ[...] or getenv(...)."""
    pattern = re.compile(r"""(?:\.get|getenv|environ)\s*[\(\[]\s*["']((?:NOVORA_|DAGSTER_HOME)\w*)["']""")
    names = set()
    for package in ("orchestration", "assets", "dashboards"):
        for path in (ROOT / package).rglob("*.py"):
            names.update(pattern.findall(path.read_text(encoding="utf-8")))
    return names


def test_code_env_vars_are_known():
    # The scan must find what config.py reads, or it silently checks nothing.
    expected = {"NOVORA_HOME", "NOVORA_LANDING", "NOVORA_DATABASE_URL", "NOVORA_DAGSTER_DATABASE_URL"}
    assert env_vars_read_by_code() >= expected


@pytest.mark.parametrize("service", sorted(PYTHON_SERVICES))
def test_every_env_var_the_code_reads_is_set(service):
    env = environment(service)
    required = (env_vars_read_by_code() - set(OPTIONAL_ENV)) | {
        "DAGSTER_HOME", "HF_HUB_OFFLINE", "NOVORA_DAGSTER_STORAGE_URL"}
    missing = sorted(required - set(env))
    assert not missing, f"{service} lacks {missing} (or list them in OPTIONAL_ENV with a reason)"
    assert env["DAGSTER_HOME"] == dockerfile_env()["DAGSTER_HOME"]
    assert env["NOVORA_LANDING"] == "/data/landing" and env["NOVORA_HOME"] == "/data/novora"


@pytest.mark.parametrize("service", sorted(PYTHON_SERVICES))
def test_database_urls_point_at_the_postgres_service(service):
    from orchestration.config import DAGSTER_DB, WAREHOUSE_DB, load_config
    from orchestration.instance import sqlalchemy_url

    env = environment(service)
    pg_env = environment("postgres")
    for var, db in (("NOVORA_DATABASE_URL", WAREHOUSE_DB), ("NOVORA_DAGSTER_DATABASE_URL", DAGSTER_DB),
                    ("NOVORA_DAGSTER_STORAGE_URL", DAGSTER_DB)):
        url = env[var]
        assert url.count(PASSWORD_EXPR) == 1, f"{service} {var}: password must come from {PASSWORD_EXPR}"
        parts = urlsplit(url.replace(PASSWORD_EXPR, "secret"))
        assert (parts.hostname, parts.port, parts.path) == ("postgres", 5432, f"/{db}"), f"{service} {var}"
        assert parts.username == pg_env["POSTGRES_USER"]
    assert environment("postgres")["POSTGRES_DB"] == WAREHOUSE_DB
    assert env["NOVORA_DAGSTER_STORAGE_URL"] == sqlalchemy_url(env["NOVORA_DAGSTER_DATABASE_URL"])
    config = load_config({k: interpolate(v) for k, v in env.items()})
    assert not config.embedded and str(config.landing) == "/data/landing"
    # Out of the box, alert email goes to the bundled mail catcher; no webhook until one is configured.
    assert (config.smtp.host, config.smtp.port, config.smtp.security) == ("mailpit", 1025, "none")
    assert config.webhook_url == ""


def test_the_app_reads_through_its_restricted_role():
    from orchestration.config import WAREHOUSE_DB, load_config
    from orchestration.database import APP_ROLE

    url = environment("app")["NOVORA_APP_DATABASE_URL"]
    assert url.count(APP_PASSWORD_EXPR) == 1, "the app role's password must come from the .env file"
    parts = urlsplit(interpolate(url))
    assert (parts.username, parts.hostname, parts.port, parts.path) == (APP_ROLE, "postgres", 5432, f"/{WAREHOUSE_DB}")
    # init sets the role's password: it needs the same URL
    assert environment("init")["NOVORA_APP_DATABASE_URL"] == url
    assert load_config({k: interpolate(v) for k, v in environment("app").items()}).app_database_url == interpolate(url)


def test_app_knows_where_the_dagster_ui_is():
    assert environment("app")["NOVORA_DAGSTER_URL"].endswith("localhost:3000}")


def test_no_hard_coded_passwords_and_every_variable_is_documented():
    text = COMPOSE_FILE.read_text()
    assert environment("postgres")["POSTGRES_PASSWORD"] == PASSWORD_EXPR
    for match in re.finditer(r"postgres(?:ql)?(?:\+\w+)?://([^:@/\s]+):([^@\s]+)@", text):
        assert match.group(2) in (PASSWORD_EXPR, APP_PASSWORD_EXPR), f"hard-coded password in {match.group(0)}"
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^([A-Z_][A-Z0-9_]*)=", example, re.M))
    used = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", text))
    assert "NOVORA_DB_PASSWORD" in used
    assert used <= documented, f"not in .env.example: {sorted(used - documented)}"


# ------------------------------------------------------------------------------------------- commands


def test_novora_db_start_is_a_real_command():
    import click

    from orchestration.cli import cli

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["novora"] == "orchestration.cli:main"
    argvs = [a for a in shell_commands(command("init")) if a[0] == "novora"]
    assert ["novora", "db", "start"] in argvs
    for argv in argvs:
        group: click.Command = cli
        for word in argv[1:]:
            assert isinstance(group, click.Group), f"{' '.join(argv)}: {group.name} has no sub-commands"
            nxt = group.commands.get(word)
            assert nxt is not None, f"`{' '.join(argv)}`: no command {word!r} in `{group.name}`"
            group = nxt
        assert not isinstance(group, click.Group), f"`{' '.join(argv)}` names a group, not a command"


def test_init_migrates_dagster_storage_too():
    assert ["dagster", "instance", "migrate"] in shell_commands(command("init"))


def test_cli_commands_exist_and_accept_their_flags(help_texts):
    assert len(cli_commands()) >= 6
    assert help_texts[("dagster", "no-such-command")][0] != 0, "the probe must be able to fail"
    for argv in cli_commands():
        head, flags = split_command(argv)
        code, text = help_texts[head]
        assert code == 0, f"`{' '.join(head)} --help` failed: {text[-500:]}"
        for flag in flags:
            assert re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text), f"`{' '.join(head)}` has no {flag}"


def test_expected_commands():
    assert command("user_code") == ["dagster", "code-server", "start", "-m", "orchestration.definitions",
                                    "-h", "0.0.0.0", "-p", "4000"]
    workspace = "/opt/dagster/deploy/workspace.docker.yaml"
    assert command("webserver") == ["dagster-webserver", "-h", "0.0.0.0", "-p", "3000", "-w", workspace]
    assert command("daemon") == ["dagster-daemon", "run", "-w", workspace]
    assert command("app")[:3] == ["streamlit", "run", "dashboards/app.py"]
    assert "--server.headless" in command("app") and "0.0.0.0" in command("app")


def test_code_location_module_defines_defs():
    argv = command("user_code")
    module = argv[argv.index("-m") + 1]
    path = ROOT / (module.replace(".", "/") + ".py")
    assert path.exists(), f"{module} not found"
    names = {t.id for node in ast.parse(path.read_text()).body if isinstance(node, ast.Assign)
             for t in node.targets if isinstance(t, ast.Name)}
    assert "defs" in names, f"{module} has no top-level `defs`"
    assert module.split(".")[0] in package_dirs()


def test_streamlit_entry_point_is_in_the_image():
    script = command("app")[2]
    assert script.split("/")[0] in package_dirs() or script.split("/")[0] == "dbt_project"
    if not (ROOT / script).exists():
        pytest.skip(f"{script} is not written yet")


# ------------------------------------------------------------------------------------------- volumes


def named_volumes(service: str) -> dict[str, str]:
    out = {}
    for spec in services()[service].get("volumes", []):
        source, target = (spec["source"], spec["target"]) if isinstance(spec, dict) else str(spec).split(":")[:2]
        if not source.startswith((".", "/")):
            out[source] = target
    return out


def test_volumes_declared_and_used():
    declared = set(compose().get("volumes") or {})
    used = set()
    for name, svc in services().items():
        used.update(named_volumes(name))
        for spec in svc.get("volumes", []):
            source = spec["source"] if isinstance(spec, dict) else str(spec).split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
    assert used <= declared, f"undeclared volumes: {sorted(used - declared)}"
    assert declared <= used, f"unused volumes: {sorted(declared - used)}"
    assert named_volumes("postgres").get("pgdata") == "/var/lib/postgresql/data"


def test_runs_find_the_landing_zone_and_home_on_volumes():
    env = environment("user_code")
    mounts = set(named_volumes("user_code").values())
    assert env["NOVORA_LANDING"] in mounts and env["NOVORA_HOME"] in mounts


def test_postgres_init_creates_the_dagster_database():
    from orchestration.config import DAGSTER_DB

    mounts = {str(s).split(":")[1]: str(s).split(":")[0] for s in services()["postgres"]["volumes"]}
    source = mounts["/docker-entrypoint-initdb.d/01-dagster-db.sql"]
    sql = (ROOT / source).read_text()
    assert re.search(rf"create\s+database\s+\"?{DAGSTER_DB}\"?", sql, re.I)


# ------------------------------------------------------------------------------------------- Dagster config


def test_dagster_yaml_uses_env_for_the_url_and_validates(tmp_path, monkeypatch):
    from dagster._core.instance.config import dagster_instance_config

    from orchestration.instance import dagster_yaml

    config = yaml.safe_load((DEPLOY / "dagster.yaml").read_text())
    assert config["storage"]["postgres"]["postgres_url"] == {"env": "NOVORA_DAGSTER_STORAGE_URL"}
    assert "://" not in yaml.safe_dump(config), "no URL (and so no password) in deploy/dagster.yaml"
    generated = dagster_yaml("postgresql://u:p@h:5432/dagster", embedded=False)
    for key in ("storage", "run_coordinator", "run_monitoring", "run_retries", "retention", "telemetry"):
        assert config[key] == generated[key], f"deploy/dagster.yaml {key} differs from orchestration/instance.py"
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["telemetry"] == {"enabled": False}

    (tmp_path / "dagster.yaml").write_text((DEPLOY / "dagster.yaml").read_text())
    monkeypatch.setenv("NOVORA_DAGSTER_STORAGE_URL", "postgresql+psycopg2://u:p@h:5432/dagster")
    dagster_instance_config(str(tmp_path))  # raises on a schema error

    # Local storage paths are on the volume that runs (user_code) and the log viewer (webserver) share.
    for key in ("compute_logs", "local_artifact_storage"):
        base = config[key]["config"]["base_dir"]
        for service in ("user_code", "webserver", "daemon"):
            assert any(base.startswith(m + "/") for m in named_volumes(service).values()), (service, base)


def test_dagster_yaml_is_installed_in_dagster_home():
    assert copy_destination("deploy/dagster.yaml") == dockerfile_env()["DAGSTER_HOME"] + "/dagster.yaml"


def test_workspace_points_at_the_code_server():
    from dagster._core.workspace.config_schema import process_workspace_config

    path = DEPLOY / "workspace.docker.yaml"
    config = yaml.safe_load(path.read_text())
    assert process_workspace_config(config).success
    (entry,) = config["load_from"]
    grpc = entry["grpc_server"]
    assert grpc["host"] == "user_code" and grpc["host"] in services()
    argv = command("user_code")
    assert grpc["port"] == int(argv[argv.index("-p") + 1])
    assert grpc["location_name"] == "novora"
    for name in ("webserver", "daemon"):
        argv = command(name)
        assert argv[argv.index("-w") + 1] == copy_destination("deploy/workspace.docker.yaml"), name


# ------------------------------------------------------------------------------------------- Dockerfile


@cache
def package_dirs() -> set[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    includes = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    return {pattern.rstrip("*").rstrip(".") for pattern in includes}


def _index(predicate) -> int:
    for i, (word, rest) in enumerate(dockerfile_instructions()):
        if predicate(word, rest):
            return i
    raise AssertionError("instruction not found in Dockerfile")


def test_dockerfile_base_user_env_cmd():
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    env = dockerfile_env()
    assert env["DAGSTER_HOME"] == "/opt/dagster/dagster_home"
    assert env["HF_HUB_OFFLINE"] == "1"
    users = [rest for word, rest in instructions if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image must run as a non-root user"
    assert any(word == "CMD" for word, _ in instructions)
    cmd = [rest for word, rest in instructions if word == "CMD"][-1]
    assert yaml.safe_load(cmd)[0] in {"dagster", "novora", "dagster-webserver", "streamlit"}


def test_dockerfile_installs_torch_cpu_before_the_project():
    torch = _index(lambda w, r: w == "RUN" and "torch==2.13.0" in r and "download.pytorch.org/whl/cpu" in r)
    project = _index(lambda w, r: w == "RUN" and re.search(r"pip install[^&]*\s(-e\s+)?\.(\s|$)", r))
    deps = _index(lambda w, r: w == "RUN" and "pip install" in r and ("pyproject" in r or "requirements" in r))
    assert torch < deps <= project, "torch (CPU) must be installed before the project and its dependencies"


def test_dockerfile_copies_every_package_and_the_dbt_project():
    dirs = package_dirs()
    assert dirs >= {"orchestration", "assets", "dashboards"}
    project = _index(lambda w, r: w == "RUN" and re.search(r"pip install[^&]*\s(-e\s+)?\.(\s|$)", r))
    for directory in sorted(dirs | {"dbt_project"}):
        assert (ROOT / directory).is_dir(), directory
        dest = copy_destination(f"{directory}/")
        assert dest is not None, f"the Dockerfile does not COPY {directory}/"
        index = next(i for i, sources, _ in dockerfile_copies() if f"{directory}/" in sources or directory in sources)
        if directory in dirs:
            assert index < project, f"{directory}/ must be copied before the (editable) project install"


def test_dockerfile_parses_dbt_at_build_time():
    parse = _index(lambda w, r: w == "RUN" and "dbt parse" in r)
    copy = next(i for i, sources, _ in dockerfile_copies() if "dbt_project/" in sources)
    assert copy < parse
    rest = dockerfile_instructions()[parse][1]
    for var in ("NOVORA_PG_HOST", "NOVORA_PG_USER", "NOVORA_PG_DBNAME"):
        assert var in rest, f"dbt parse needs {var} for the profile to render"
    assert "--project-dir dbt_project" in rest and "--profiles-dir dbt_project" in rest


def test_dockerignore_keeps_local_state_out_but_not_the_code():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    for required in (".venv", ".novora", "test-artifacts", "dbt_project/target", ".git", ".env"):
        assert required in patterns, f".dockerignore should exclude {required}"
    needed = [s for _, sources, _ in dockerfile_copies() for s in sources]
    for source in needed:
        for pattern in patterns:
            if pattern.startswith("!"):
                continue
            assert not fnmatch.fnmatch(source.rstrip("/"), pattern), f"{source} is excluded by {pattern}"
