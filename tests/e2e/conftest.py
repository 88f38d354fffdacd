"""Fixtures for browser tests: a warehouse loaded from the fixture landing zone, a real `streamlit run` server
on a free port, and Debian's Chromium driven by Playwright. Every process started here is stopped here."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestration import database
from orchestration.config import child_environment, load_config
from tests.landing_fixture import write_landing

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SERVER_START_TIMEOUT_S = 90


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: drives a real browser against a real server (needs /usr/bin/chromium)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots and server logs go (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def loaded_environment() -> Iterator[dict[str, str]]:
    """Environment of a warehouse holding the materialised fixture landing zone (for child processes)."""
    from orchestration.definitions import build_definitions
    from orchestration.runner import materialize_all

    # Not under pytest's basetemp: the embedded server runs as another user when tests run as root, and every
    # pytest start (this session's or a neighbour's) takes the others' permission off /tmp/pytest-of-<user>.
    root = Path(tempfile.mkdtemp(prefix="novora-e2e-"))
    env = {"NOVORA_HOME": str(root / "home"), "NOVORA_LANDING": str(write_landing(root / "landing"))}
    config = load_config(env)
    saved = dict(os.environ)
    try:
        os.environ.update(env)
        os.environ.pop("NOVORA_DATABASE_URL", None)
        summary = materialize_all(config, build_definitions(config), echo=lambda message: None)
        assert all(step.success for step in summary.steps), [s for s in summary.steps if not s.success]
        yield child_environment(config, base=saved)
    finally:
        database.stop_server(config)
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def streamlit_url(loaded_environment: dict[str, str], artifacts: Path) -> Iterator[str]:
    """Base URL of `streamlit run dashboards/app.py` serving the loaded warehouse."""
    port = _free_port()
    env = {**loaded_environment, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    env.pop("NOVORA_DATABASE_URL", None)
    log_path = artifacts / "streamlit-e2e.log"
    command = [
        sys.executable, "-m", "streamlit", "run", "dashboards/app.py",
        "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
    ]
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with {process.returncode}; see {log_path}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer on {url} within {SERVER_START_TIMEOUT_S}s; see {log_path}")
            time.sleep(0.3)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # its own session: only this server and its children
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, through Playwright's sync API."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium chromium-driver)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
