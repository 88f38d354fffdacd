"""The CLI's contract with people: one clear line and a non-zero exit for anything they can get wrong."""

import subprocess
import sys
from pathlib import Path

import pytest

NOVORA = str(Path(sys.executable).with_name("novora"))


def run(*args: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([NOVORA, *args], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "NOVORA_HOME": str(home)})


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("generate", "--teams", "0"), 2, "novora: error: Invalid value for '--teams': 0 is not in the range"),
        (("generate", "--start-month", "2026-13"), 1, "novora: error: "),
        (("frobnicate",), 2, "novora: error: No such command 'frobnicate'."),
    ],
)
def test_user_errors_are_one_line(tmp_path, args, code, message):
    result = run(*args, home=tmp_path)
    assert result.returncode == code
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_generate_writes_the_landing_zone_and_says_what_it_wrote(tmp_path):
    result = run("generate", "--teams", "4", "--employees-per-team", "6", "--surveys", "2",
                 "--landing", str(tmp_path / "drop"), home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("wrote 4 teams, 24 employees, 2 surveys")
    assert (tmp_path / "drop" / "org" / "teams.csv").exists()
    assert sorted(p.name for p in (tmp_path / "drop" / "surveys").iterdir()) == ["2026-01", "2026-02"]


def test_group_without_a_command_shows_its_help(tmp_path):
    result = run("db", home=tmp_path)
    assert result.returncode == 0 and "start" in result.stdout and "url" in result.stdout


def test_an_unreachable_external_database_is_one_line(tmp_path):
    result = subprocess.run([NOVORA, "db", "url"], capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "NOVORA_HOME": str(tmp_path),
                                 "NOVORA_DATABASE_URL": "postgresql://novora:s3cret@127.0.0.1:1/novora"})
    assert result.returncode == 1
    assert result.stderr.startswith("novora: error: cannot connect to NOVORA_DATABASE_URL "
                                    "(postgresql://novora:***@127.0.0.1:1/novora)")
    assert "s3cret" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
