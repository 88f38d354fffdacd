"""``novora demo``: everything on one machine, then Dagster UI, the daemon and the Streamlit app until Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from orchestration import database
from orchestration.config import PROJECT_ROOT, WORKSPACE_FILE, NovoraConfig, child_environment
from orchestration.instance import storage_environment

DEMO_BAD_ROWS = 24  # a few planted defects so the quarantine and the contract checks have something to show


@dataclass
class Service:
    name: str
    command: list[str]
    health_url: str
    process: subprocess.Popen | None = None
    log: IO[str] | None = None


def services(host: str, dagster_port: int, app_port: int) -> list[Service]:
    """The long-running processes of the demo, each with the URL that says it is up."""
    bin_dir = Path(sys.executable).parent
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return [
        Service("dagster-webserver",
                [str(bin_dir / "dagster-webserver"), "-h", host, "-p", str(dagster_port), "-w", str(WORKSPACE_FILE)],
                f"http://{shown_host}:{dagster_port}/server_info"),
        daemon_service(),
        Service("streamlit",
                [str(bin_dir / "streamlit"), "run", str(PROJECT_ROOT / "dashboards" / "app.py"),
                 "--server.address", host, "--server.port", str(app_port), "--server.headless", "true",
                 "--browser.gatherUsageStats", "false"],
                f"http://{shown_host}:{app_port}/_stcore/health"),
    ]


def daemon_service() -> Service:
    """dagster-daemon: sensors, automation and the run queue (it has no URL; Dagster records its heartbeat)."""
    return Service("dagster-daemon", [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w",
                                      str(WORKSPACE_FILE)], "")


def launch(service: Service, env: dict[str, str], log_path: Path) -> Service:
    """Start the service in a process group of its own (so stopping it stops its code servers and runs too),
    its output appended to ``log_path``."""
    service.log = log_path.open("a", encoding="utf-8")
    service.process = subprocess.Popen(service.command, cwd=PROJECT_ROOT, env=env, stdout=service.log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
    return service


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(1)
    return False


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    """Signal the service and everything it started (code servers, run workers): its own process group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def stop_all(running: list[Service], grace: float = 15.0) -> None:
    for service in running:
        if service.process:
            _signal_group(service.process, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for service in running:
        if service.process is None:
            continue
        try:
            service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            service.process.kill()
            service.process.wait()
        # children that outlived their parent (a code server finishing a run) go too
        time.sleep(0.5)
        _signal_group(service.process, signal.SIGKILL)
        if service.log:
            service.log.close()


def prepare(config: NovoraConfig, echo: Callable[[str], None]) -> bool:
    """Database, synthetic data (unless the landing zone already has an org) and one full materialisation."""
    from orchestration.definitions import build_definitions
    from orchestration.runner import materialize_all
    from orchestration.synthetic import GenerateOptions, generate

    echo(f"novora home: {config.home}")
    if (config.landing / "org" / "teams.csv").exists():
        echo(f"landing zone {config.landing} already holds an org: using it as it is")
    else:
        report = generate(config.landing, GenerateOptions(bad_rows=DEMO_BAD_ROWS))
        echo(f"generated {report.teams} teams, {report.employees} employees, {len(report.surveys)} surveys "
             f"({report.responses:,} responses) into {config.landing} in {report.seconds:.1f}s")
    summary = materialize_all(config, build_definitions(config), echo=echo)
    return summary.ok


DEMO_ACCOUNTS_FILE = "demo-accounts.txt"


def demo_accounts(config: NovoraConfig) -> list[tuple[str, str, str]]:
    """One account per role to sign in with: (role, email, password).

    The first run gives the first admin, the manager who sees the most teams and the first viewer a random
    password and keeps them in ``$NOVORA_HOME/demo-accounts.txt`` (readable by the owner only); later runs
    print the same ones. Accounts with a password set some other way are left alone.
    """
    import secrets

    import psycopg

    from assets.access.auth import set_password

    path = config.home / DEMO_ACCOUNTS_FILE
    kept = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            role, email, password = line.split("\t")
            kept[email] = (role, email, password)
    chosen = []
    with psycopg.connect(database.warehouse_url(config), autocommit=True) as conn:
        for role, order in (("admin", "lower(u.email)"), ("manager", "count(a.team_id) desc, lower(u.email)"),
                            ("viewer", "lower(u.email)")):
            row = conn.execute(
                f"""select u.email, u.password_hash is null from app.users as u
                    left join app.user_team_access as a on a.user_id = u.user_id
                    where u.is_active and u.role = %s group by u.user_id order by {order} limit 1""",
                (role,)).fetchone()
            if row is None:
                continue
            email, no_password = row
            if email in kept and not no_password:
                chosen.append(kept[email])
            elif no_password:
                password = secrets.token_urlsafe(12)
                set_password(conn, email, password, actor="novora demo")
                chosen.append((role, email, password))
    path.write_text("".join("\t".join(account) + "\n" for account in chosen), encoding="utf-8")
    path.chmod(0o600)
    return chosen


def run_demo(
    config: NovoraConfig, host: str, dagster_port: int, app_port: int, serve: bool, echo: Callable[[str], None]
) -> int:
    was_running = config.embedded and database.is_running(config)
    if not prepare(config, echo):
        echo("materialisation failed: see the lines above and the log")
        return 1
    if not serve:
        return 0
    config.logs.mkdir(parents=True, exist_ok=True)
    env = child_environment(config)
    env.update(storage_environment(config))
    env["NOVORA_DAGSTER_URL"] = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{dagster_port}"
    running: list[Service] = []
    stopping = False

    def on_stop(signum, frame):  # SIGTERM behaves like Ctrl-C; SIGINT too where a parent shell ignored it
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, on_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for service in services(host, dagster_port, app_port):
            running.append(launch(service, env, config.logs / f"{service.name}.log"))
        for service in running:
            assert service.process is not None
            if service.health_url and not wait_healthy(service.health_url, service.process):
                echo(f"{service.name} did not come up: see {config.logs / (service.name + '.log')}")
                return 1
        dagster_url = env["NOVORA_DAGSTER_URL"]
        echo("")
        echo(f"Dagster UI     {dagster_url}   (assets, survey partitions, backfills)")
        echo(f"Novora app     http://{'127.0.0.1' if host == '0.0.0.0' else host}:{app_port}")
        echo(f"logs           {config.logs}")
        for role, email, password in demo_accounts(config):
            echo(f"sign in as {role:<8}{email}  password {password}")
        echo("Press Ctrl-C to stop.")
        while True:
            for service in running:
                assert service.process is not None
                if service.process.poll() is not None:
                    echo(f"{service.name} exited with code {service.process.returncode}: "
                         f"see {config.logs / (service.name + '.log')}")
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        stopping = True
        echo("\nstopping ...")
        return 0
    finally:
        stop_all(running)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if stopping and config.embedded and not was_running:
            database.stop_server(config)
        if stopping:
            echo("stopped")
