"""Loads try again on a new connection when the server went away, and only then (real psycopg errors)."""

import logging

import dagster as dg
import psycopg
import pytest

from assets.ingestion.assets import database_fault_reason, is_transient, with_reconnects

NOWHERE = "postgresql://postgres@/novora?host=/nonexistent-socket-dir&connect_timeout=2"


def unreachable() -> None:
    with psycopg.connect(NOWHERE):
        pass


def real_error() -> psycopg.OperationalError:
    try:
        unreachable()
    except psycopg.OperationalError as exc:
        return exc
    raise AssertionError("connected to a server that does not exist")


def test_a_server_that_stays_away_fails_the_step_after_the_attempts_in_one_line():
    calls = []

    def work():
        calls.append(1)
        unreachable()

    with pytest.raises(dg.Failure) as failure:
        with_reconnects("raw/responses of survey S1", work, logging.getLogger("test"), attempts=3, wait_seconds=0)
    assert len(calls) == 3
    assert failure.value.description.startswith(
        "raw/responses of survey S1 was not loaded after 3 attempts: the database connection was lost (")
    assert failure.value.description.endswith(
        "the previous delivery is still the one in the warehouse; the next run loads it again.")
    assert "\n" not in failure.value.description


def test_a_server_back_on_the_second_attempt_gives_the_result():
    attempts = iter([real_error(), "loaded"])

    def work():
        outcome = next(attempts)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert with_reconnects("x", work, logging.getLogger("test"), attempts=4, wait_seconds=0) == "loaded"


def test_a_full_disk_is_not_tried_again():
    disk_full = psycopg.errors.DiskFull("could not extend file \"base/1/2\": No space left on device")
    assert not is_transient(disk_full) and is_transient(real_error())
    calls = []

    def work():
        calls.append(1)
        raise disk_full

    with pytest.raises(dg.Failure) as failure:
        with_reconnects("raw/responses of survey S1", work, logging.getLogger("test"), attempts=4, wait_seconds=0)
    assert calls == [1]
    assert failure.value.description == database_fault_reason("raw/responses of survey S1", disk_full)
    assert "was not loaded: the database server is out of disk space (could not extend file" in \
        failure.value.description
