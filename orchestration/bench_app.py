"""The app stage of ``novora bench``: every page's queries (p95 < 100 ms) and every page's render (p95 < 300 ms)
with a year of surveys loaded (SPEC section 9, issue 6). Measured, never asserted in tests.

Queries. Each page of ``dashboards/app.py`` is run once in Streamlit's AppTest, signed in as an admin and as a
manager (the department head who sees the most teams), with ``dashboards.data._read`` wrapped so that every
query the page really sends (SQL, parameters, the app role's URL, the calling data function) is recorded. The
pages are those ``dashboards.navigation.PAGES`` registers, so a page added there is measured without a change
here. Each recorded query is then replayed ``query_repeats`` times, uncached, the way ``data._read`` runs it: a
new connection, a read-only transaction, fetch, a DataFrame. A page's figure per round is the sum of its distinct
queries (what one page run with a cold cache waits for in the database). ``script`` times the whole page script
in AppTest, cold and warm, so that a slow render can be told apart: the server's Python or the browser.

Render. A real ``streamlit run dashboards/app.py`` serves the warehouse; Debian's Chromium (Playwright) signs in
through the form and, for each page in the navigation, measures in the browser, from the click until Streamlit
reports the script run finished (``data-test-script-state`` back to ``notRunning``): ``cold``, the sidebar's
"Refresh data" button on the page (the query cache is cleared, then the page runs again); ``warm``, coming back
to the page from another one through the sidebar (its queries cached).

Data. ``novora bench --app-only`` generates an org and a year of monthly surveys into its own home
(``$NOVORA_HOME/bench/app``) and runs the real pipeline on a fresh warehouse (``novora materialize``:
ingestion, dbt, comments, marts, alerts); ``loaded`` in the JSON says exactly what the warehouse then held
(surveys, responses, answers, comments delivered and enriched per survey, alerts, rows of every mart). The marts
grow with teams x surveys x drivers, not with responses, so the benchmark-size org with a lower participation
gives marts of full size in a fraction of the pipeline's time; comments (and their embeddings) scale with
participation. Commands:

- quick (a few minutes): ``novora bench --app-only --teams 20 --employees-per-team 50 --surveys 12``
- benchmark-size marts: ``novora bench --app-only --surveys 12 --participation 0.2`` (100 teams x 500 people,
  about 10,000 responses and 4,000 comments per survey; 22 minutes to load on 2 cores)
- again after a change to the app: the same command with ``--reuse`` measures what the last run loaded
- full scale: ``novora bench --app-only --surveys 12`` (about 41,000 responses per survey at realistic
  participation; the comments' embeddings dominate: an hour or more on 2 cores, not yet measured), or the whole
  ``novora bench``, whose last stage measures the app over the year it loaded (12 surveys of 50,000 responses;
  comments enriched for the first survey and the live one, as ``loaded.comments_enriched_by_survey`` shows).
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import logging
import math
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql as pgsql

from orchestration import database
from orchestration.bench import AppStage, machine
from orchestration.config import NovoraConfig, child_environment, load_config
from orchestration.receivers import free_port

Progress = Callable[[str], None]

QUERY_TARGET_MS = 100.0
RENDER_TARGET_MS = 300.0
QUERY_REPEATS = 30
RENDER_REPEATS = 20
SCRIPT_REPEATS = 10  # runs of each page script in AppTest, cold and warm: where render time goes, server or browser
ROLES = ("admin", "manager")  # the scopes measured: every team, and the manager who sees the most teams
APP_TOKEN_KEY = "novora_token"  # where dashboards/app.py keeps the session token it resumes on every run

DASHBOARDS = Path(__file__).resolve().parents[1] / "dashboards"
APP_FILE = DASHBOARDS / "app.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1600, "height": 1000}
SERVER_START_TIMEOUT_S = 120
WAIT_MS = 120_000
QUERY_METHOD = ("each query a page sent in AppTest, replayed uncached as data._read runs it (new connection as "
                "the app's role, read-only, fetch, DataFrame); page_total: the sum of the page's queries per round; "
                "script: the whole page script in AppTest (no browser), cold (cache cleared) and warm")
RENDER_METHOD = ("in Chromium against streamlit run, from the click until the script run reports finished: cold = "
                 "'Refresh data' on the page (query cache cleared), warm = back to the page from another one")
# How data._read connects (a statement never runs longer than 15 s); the replay connects the same way.
CONNECT_OPTIONS = "-c statement_timeout=15000"


# ---------------------------------------------------------------- figures (pure)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by linear interpolation between closest ranks (numpy's default)."""
    if not values:
        raise ValueError("no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, not {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary_ms(seconds: Sequence[float]) -> dict[str, float | int]:
    """n, p50, p95 and max of timings given in seconds, in milliseconds (0.1 ms)."""
    return {"n": len(seconds), "p50_ms": round(percentile(seconds, 50) * 1000, 1),
            "p95_ms": round(percentile(seconds, 95) * 1000, 1), "max_ms": round(max(seconds) * 1000, 1)}


def page_rounds(samples: Mapping[str, Sequence[float]]) -> list[float]:
    """Per round, the sum of the page's queries (each query's i-th timing): one cold page run's database time."""
    lengths = {len(s) for s in samples.values()}
    if len(lengths) > 1:
        raise ValueError(f"every query needs as many timings: {sorted(lengths)}")
    rounds = lengths.pop() if lengths else 0
    return [sum(s[i] for s in samples.values()) for i in range(rounds)]


def page_query_figures(samples: Mapping[str, Sequence[float]], rows: Mapping[str, int],
                       target_ms: float = QUERY_TARGET_MS) -> dict[str, object]:
    """One page and role: every query's p50/p95/max and rows, the page's sum per round, and whether every query
    stays under the target at p95 (a page without queries meets it)."""
    queries = {name: {**summary_ms(s), "rows": rows.get(name)} for name, s in samples.items()}
    worst = max((q["p95_ms"] for q in queries.values()), default=None)
    return {
        "queries": queries,
        "page_total": summary_ms(page_rounds(samples)) if samples else None,
        "slowest_query_p95_ms": worst,
        "met": worst is None or worst < target_ms,
    }


def script_figures(cold: Sequence[float], warm: Sequence[float]) -> dict[str, object] | None:
    """The page script's own seconds in AppTest (no browser), cold and warm, summarised (None: not timed)."""
    if not cold and not warm:
        return None
    return {"cold": summary_ms(cold) if cold else None, "warm": summary_ms(warm) if warm else None}


def render_figures(cold: Sequence[float], warm: Sequence[float], target_ms: float = RENDER_TARGET_MS
                   ) -> dict[str, object]:
    """One page and role: cold and warm render timings (seconds) summarised; met only if both p95 are under."""
    figures: dict[str, object] = {"cold": summary_ms(cold) if cold else None,
                                  "warm": summary_ms(warm) if warm else None}
    figures["met"] = all(case is not None and case["p95_ms"] < target_ms
                         for case in (figures["cold"], figures["warm"]))
    return figures


def failing(pages: Mapping[str, Mapping[str, Mapping[str, object]]]) -> list[str]:
    """``page (role)`` for every page and role that missed its target or could not be measured."""
    return [f"{page} ({role})" for page, roles in pages.items() for role, figures in roles.items()
            if not figures.get("met")]


def app_targets(queries: Mapping[str, Mapping[str, Mapping[str, object]]] | None,
                render: Mapping[str, Mapping[str, Mapping[str, object]]] | None) -> dict[str, object]:
    """Issue 6 point 4: every page's queries p95 < 100 ms, every page's render p95 < 300 ms (None: not measured)."""
    query_failing = None if queries is None else failing(queries)
    render_failing = None if render is None else failing(render)
    return {
        "page_queries_p95_under_ms": QUERY_TARGET_MS,
        "page_queries_met": None if query_failing is None else not query_failing and bool(queries),
        "page_queries_failing": query_failing,
        "page_render_p95_under_ms": RENDER_TARGET_MS,
        "page_render_met": None if render_failing is None else not render_failing and bool(render),
        "page_render_failing": render_failing,
    }


# ---------------------------------------------------------------- the pages (found in app.py)


@dataclass(frozen=True)
class AppPage:
    """One page of the app: its file (relative to dashboards/), navigation title, the roles whose navigation
    holds it, the query parameters it reads and its lazy tabs (``layout.lazy_tabs``: key, labels in order)."""

    path: str
    title: str
    roles: tuple[str, ...] = ROLES
    query_params: tuple[str, ...] = ()
    tabs: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def shown_to(self, role: str) -> bool:
        return role in self.roles


QUERY_PARAM_PATTERN = re.compile(r"""query_params(?:\.get\(\s*|\[\s*)["'](\w+)["']""")


def query_params_read(source: str) -> tuple[str, ...]:
    """The query parameters a page's source reads (``st.query_params["team"]``, ``.get("team")``), in order."""
    return tuple(dict.fromkeys(QUERY_PARAM_PATTERN.findall(source)))


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level text constants: ``NAME = "text"`` and ``A, B = "one", "two"``."""
    found: dict[str, str] = {}
    for node in tree.body:
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target, value = node.targets[0], node.value
        pairs = (zip(target.elts, value.elts, strict=False)
                 if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) else [(target, value)])
        for name, text in pairs:
            if isinstance(name, ast.Name) and isinstance(text, ast.Constant) and isinstance(text.value, str):
                found[name.id] = text.value
    return found


def lazy_tabs_read(source: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The lazy tab sets a page's source draws (``layout.lazy_tabs(KEY, {"Label": section, ...})``): each key
    with its labels in order; a key drawn in several places (an empty state and the full page) once, with every
    label. Keys and labels may be literals or module-level constants."""
    tree = ast.parse(source)
    constants = _constants(tree)

    def text(node: ast.expr) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        return constants.get(node.id) if isinstance(node, ast.Name) else None

    calls: list[tuple[str, list[str]]] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "lazy_tabs"
                and len(node.args) == 2 and isinstance(node.args[1], ast.Dict)):
            continue
        key = text(node.args[0])
        labels = [text(k) for k in node.args[1].keys if k is not None]
        if key is not None and None not in labels:
            calls.append((key, labels))
    tabs: dict[str, list[str]] = {}
    # the fullest call of a key first: its first label is the tab the full page opens on
    for key, labels in sorted(calls, key=lambda call: -len(call[1])):
        known = tabs.setdefault(key, [])
        known += [label for label in labels if label not in known]
    return tuple((key, tuple(labels)) for key, labels in tabs.items())


def discover_pages(specs: Sequence | None = None, dashboards: Path = DASHBOARDS) -> list[AppPage]:
    """The app's pages that exist on disk, as ``dashboards.navigation.PAGES`` registers them (path, title,
    roles): a page added there is measured without a change here."""
    if specs is None:
        from dashboards.navigation import PAGES

        specs = PAGES
    pages = []
    for spec in specs:
        file = dashboards / spec.path
        if file.is_file():
            source = file.read_text(encoding="utf-8")
            pages.append(AppPage(spec.path, spec.title, tuple(spec.roles), query_params_read(source),
                                 lazy_tabs_read(source)))
    return pages


def query_param_values(page: AppPage, samples: Mapping[str, str]) -> list[dict[str, str]]:
    """The visits of a page to measure: without parameters, and with each parameter it reads for which the
    bench has a sample value (``team``: the manager's own team)."""
    visits: list[dict[str, str]] = [{}]
    visits += [{name: samples[name]} for name in page.query_params if name in samples]
    return visits


def tab_states(page: AppPage) -> list[dict[str, str]]:
    """The session states that open each of a page's lazy tabs: none (the page as it opens: every first tab),
    then one per other tab. Only the open tab runs its queries, so each tab is a visit of its own."""
    return [{}, *({key: label} for key, labels in page.tabs for label in labels[1:])]


def visit_label(page: AppPage, params: Mapping[str, str], state: Mapping[str, str] | None = None) -> str:
    return (page.title + "".join(f" · {label}" for label in (state or {}).values())
            + "".join(f" ?{k}={v}" for k, v in params.items()))


# ---------------------------------------------------------------- what is loaded


def count(conn: psycopg.Connection, table: str) -> int | None:
    """Rows of ``schema.table``; None when it does not exist."""
    if conn.execute("select to_regclass(%s)", (table,)).fetchone()[0] is None:
        return None
    return conn.execute(pgsql.SQL("select count(*) from {}").format(pgsql.Identifier(*table.split(".")))).fetchone()[0]


def describe_warehouse(conn: psycopg.Connection) -> dict[str, object]:
    """What the pages read from: surveys, responses, answers, comments (enriched, per survey), alerts, and the
    rows of every mart."""
    marts = [r[0] for r in conn.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' order by table_name")]
    figures: dict[str, object] = {
        "teams": count(conn, "raw.teams"),
        "employees": count(conn, "raw.employees"),
        "surveys": count(conn, "raw.surveys"),
        "invitations": count(conn, "raw.invitations"),
        "responses": conn.execute("select count(distinct (survey_id, response_id)) from raw.responses").fetchone()[0],
        "answers": count(conn, "raw.responses"),
        "comments_delivered": conn.execute(
            "select count(*) from raw.responses where nullif(trim(comment), '') is not null").fetchone()[0],
        "comments_enriched": count(conn, "nlp.comments"),
        "embeddings": count(conn, "nlp.embeddings"),
        "alerts": count(conn, "alerts.alerts"),
        "dashboard_accounts": count(conn, "app.users"),
        "mart_rows": {name: count(conn, f"marts.{name}") for name in marts},
    }
    if count(conn, "nlp.comments") is not None:
        figures["comments_enriched_by_survey"] = dict(conn.execute(
            "select survey_id, count(*) from nlp.comments group by survey_id order by survey_id").fetchall())
    return figures


# ---------------------------------------------------------------- accounts


@dataclass(frozen=True)
class BenchAccount:
    role: str
    user_id: str
    email: str
    password: str
    team_id: str | None  # the manager's own managed team (a sample for ``?team=``)
    teams_visible: int | None


def bench_accounts(conn: psycopg.Connection) -> dict[str, BenchAccount]:
    """An admin and the manager who sees the most teams short of all of them (a department head), from the
    roster's accounts (synced here as the app/users asset does), each with a fresh random password for this run."""
    from assets.access.auth import set_password
    from assets.access.users import sync_users

    sync_users(conn)
    admin = conn.execute("select user_id, email from app.users where is_active and role = 'admin' "
                         "order by user_id limit 1").fetchone()
    manager = conn.execute(
        """select u.user_id, u.email, count(*) as teams,
                  (select a.via_team_id from app.user_team_access as a where a.user_id = u.user_id
                   order by a.via_team_id limit 1) as managed
           from app.users as u inner join app.user_team_access as a on a.user_id = u.user_id
           where u.is_active and u.role = 'manager'
           group by u.user_id, u.email
           -- not the top manager, who sees every team as an admin does (unless nobody else manages a team)
           order by count(*) < (select count(*) from raw.teams) desc, teams desc, u.user_id limit 1""").fetchone()
    if admin is None or manager is None:
        raise RuntimeError("the roster has no admin or no manager with teams: the app cannot be measured")
    accounts = {"admin": BenchAccount("admin", admin[0], admin[1], f"bench-{secrets.token_urlsafe(18)}", None, None),
                "manager": BenchAccount("manager", manager[0], manager[1], f"bench-{secrets.token_urlsafe(18)}",
                                        manager[3], int(manager[2]))}
    for account in accounts.values():
        set_password(conn, account.email, account.password, actor="novora bench")
    return accounts


# ---------------------------------------------------------------- queries: record in AppTest, replay


@dataclass(frozen=True)
class RecordedQuery:
    name: str  # the data function that sent it (``results.driver_table``) or ``file.py:line``
    url: str
    sql: str
    params: Any


def caller_name(frame, dashboards: Path = DASHBOARDS) -> str:
    """The first function in dashboards/ above the query layer (``data.query``/``data._read``)."""
    while frame is not None:
        file = Path(frame.f_code.co_filename)
        name = frame.f_code.co_name
        if dashboards in file.parents and not (file.name == "data.py" and name in ("query", "_read", "recorder")):
            if name == "<module>":
                return f"{file.relative_to(dashboards).as_posix()}:{frame.f_lineno}"
            return f"{file.stem}.{name}"
        frame = frame.f_back
    return "unknown"


def unique_names(queries: Sequence[RecordedQuery]) -> list[RecordedQuery]:
    """Distinct (sql, params) in order (the app's cache runs a repeated one once); a name sending several
    different queries gets ``#2``, ``#3``."""
    seen: set[tuple[str, str]] = set()
    taken: dict[str, int] = {}
    out = []
    for q in queries:
        key = (q.sql, repr(q.params))
        if key in seen:
            continue
        seen.add(key)
        taken[q.name] = taken.get(q.name, 0) + 1
        name = q.name if taken[q.name] == 1 else f"{q.name}#{taken[q.name]}"
        out.append(RecordedQuery(name, q.url, q.sql, q.params))
    return out


@contextlib.contextmanager
def environment(env: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` as ``env`` inside the block (the app reads its configuration from it)."""
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def quiet_streamlit() -> Iterator[None]:
    """No log records up to WARNING inside the block: AppTest outside a server warns about it on every call (and
    Streamlit resets its loggers' levels as it runs, so only a process-wide switch keeps them quiet). What a page
    prints (Streamlit prints the traceback of a page that raised) goes to stderr: stdout carries the bench's JSON
    alone."""
    logging.disable(logging.WARNING)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        logging.disable(logging.NOTSET)


@dataclass(frozen=True)
class PageRun:
    """What one page did in AppTest: the queries its first (cold) run sent, and the seconds of later runs in the
    same process, cold (st.cache_data cleared first) and warm (cached): the script's own cost, no browser."""

    queries: list[RecordedQuery]
    script_cold: list[float]
    script_warm: list[float]


def run_page(page: AppPage, params: Mapping[str, str], viewer, script_repeats: int = 0, timeout: float = 120,
             state: Mapping[str, str] | None = None) -> PageRun:
    """Run ``page`` in AppTest as ``viewer`` (``state``: the session state that opens one of its tabs): record
    every query it sends (the caches cleared first), then time ``script_repeats`` cold and warm runs of it."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dashboards import data
    from dashboards.session import VIEWER_KEY

    recorded: list[RecordedQuery] = []
    original = data._read
    bound = inspect.signature(original.__wrapped__ if hasattr(original, "__wrapped__") else original)
    active = False

    def recorder(*args, **kwargs):
        if active:
            call = bound.bind(*args, **kwargs).arguments
            values = list(call.values())
            recorded.append(RecordedQuery(caller_name(sys._getframe(1)), call.get("url", values[0]),
                                          call.get("sql", values[1]), call.get("params", None)))
        return original(*args, **kwargs)

    def timed(clear: bool) -> float:
        if clear:
            st.cache_data.clear()
        started = time.perf_counter()
        app.run()
        seconds = time.perf_counter() - started
        if app.exception:
            raise RuntimeError(f"{page.path}: {app.exception[0].message}")
        return seconds

    data._read = recorder
    try:
        app = AppTest.from_file(str(APP_FILE), default_timeout=timeout)
        app.session_state[APP_TOKEN_KEY] = viewer.session_token
        app.session_state[VIEWER_KEY] = viewer
        app.run()
        st.cache_data.clear()
        for name, value in params.items():
            app.query_params[name] = value
        for key, value in (state or {}).items():
            app.session_state[key] = value
        active = True
        app.switch_page(page.path).run()
        active = False
        if app.exception:
            raise RuntimeError(f"{page.path}: {app.exception[0].message}")
    finally:
        data._read = original
    cold = [timed(clear=True) for _ in range(script_repeats)]
    warm = [timed(clear=False) for _ in range(script_repeats)]
    return PageRun(recorded, cold, warm)


def time_query(url: str, query: RecordedQuery) -> tuple[float, float, int]:
    """(seconds as data._read spends them uncached: connect, read-only query, fetch, DataFrame; connect seconds;
    rows)."""
    import pandas as pd

    started = time.perf_counter()
    with psycopg.connect(url, connect_timeout=10, options=CONNECT_OPTIONS) as conn:
        connected = time.perf_counter()
        conn.read_only = True
        cursor = conn.execute(query.sql, query.params)
        columns = [column.name for column in cursor.description or []]
        frame = pd.DataFrame(cursor.fetchall(), columns=columns)
    return time.perf_counter() - started, connected - started, len(frame)


def replay(queries: Sequence[RecordedQuery], repeats: int) -> tuple[dict[str, list[float]], dict[str, int],
                                                                    list[float]]:
    """Each query ``repeats`` times, a page's queries one after another per round: (seconds per query, rows per
    query, connect seconds)."""
    samples: dict[str, list[float]] = {q.name: [] for q in queries}
    rows: dict[str, int] = {}
    connects: list[float] = []
    for _ in range(repeats):
        for q in queries:
            seconds, connect, n = time_query(q.url, q)
            samples[q.name].append(seconds)
            connects.append(connect)
            rows[q.name] = n
    return samples, rows, connects


def time_data_version(app_url: str, repeats: int) -> dict[str, float | int]:
    """The query that tells the app's cache whether the warehouse changed (run at most every few seconds, not
    per page), timed as the pages' queries are."""
    from dashboards import data

    check = RecordedQuery("data.data_version", app_url, data.DATA_VERSION_SQL, data.DATA_VERSION_PARAMS)
    return summary_ms([time_query(app_url, check)[0] for _ in range(repeats)])


def viewer_for(conn: psycopg.Connection, account: BenchAccount):
    """The Viewer a sign-in gives (a real session token, so pages that resume the session accept it)."""
    from assets.access.auth import resume, sign_in

    return resume(conn, sign_in(conn, account.email, account.password))


def bench_queries(url: str, env: Mapping[str, str], pages: Sequence[AppPage], accounts: Mapping[str, BenchAccount],
                  repeats: int, progress: Progress, script_repeats: int = SCRIPT_REPEATS) -> tuple[dict, dict]:
    """Per page (and query-parameter visit) and role: the recorded queries replayed ``repeats`` times, and the
    page script timed ``script_repeats`` times cold and warm in AppTest."""
    figures: dict[str, dict[str, object]] = {}
    connects: list[float] = []
    with psycopg.connect(url, autocommit=True) as conn, environment(env):
        viewers = {role: viewer_for(conn, account) for role, account in accounts.items()}
        samples = {"team": accounts["manager"].team_id} if accounts["manager"].team_id else {}
        for page in pages:
            visits = [(params, state) for params in query_param_values(page, samples) for state in tab_states(page)]
            for params, state in visits:
                label = visit_label(page, params, state)
                for role, viewer in viewers.items():
                    if not page.shown_to(role):
                        continue
                    try:
                        with quiet_streamlit():
                            run = run_page(page, params, viewer, script_repeats, state=state)
                        queries = unique_names(run.queries)
                        times, rows, connected = replay(queries, repeats)
                    except Exception as error:  # one broken page must not hide the others' figures
                        progress(f"  {label} ({role}): {type(error).__name__}: {error}")
                        figures.setdefault(label, {})[role] = {"error": f"{type(error).__name__}: {error}",
                                                               "met": False}
                        continue
                    connects += connected
                    page_figures = page_query_figures(times, rows)
                    page_figures["script"] = script_figures(run.script_cold, run.script_warm)
                    page_figures["sql"] = {q.name: " ".join(q.sql.split())[:160] for q in queries}
                    figures.setdefault(label, {})[role] = page_figures
                    total = page_figures["page_total"]
                    script = page_figures["script"]
                    progress(f"  {label} ({role}): {len(queries)} queries, slowest p95 "
                             f"{page_figures['slowest_query_p95_ms']} ms, page sum p95 "
                             f"{total['p95_ms'] if total else 0} ms; script in AppTest p95 cold "
                             f"{script['cold']['p95_ms'] if script else '-'} ms, warm "
                             f"{script['warm']['p95_ms'] if script else '-'} ms")
    return figures, (summary_ms(connects) if connects else {})


# ---------------------------------------------------------------- render: a real server and browser


@contextlib.contextmanager
def streamlit_server(env: Mapping[str, str], log_path: Path, app_file: Path = APP_FILE) -> Iterator[str]:
    """``streamlit run dashboards/app.py`` (or ``app_file``) on a free port of 127.0.0.1, in its own process group;
    stopped on exit."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(app_file), "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(command, cwd=APP_FILE.parents[1], env={**env, "STREAMLIT_BROWSER_GATHER_USAGE_STATS":
                                   "false"}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {process.returncode}; see {log_path}")
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not answer on {url} within {SERVER_START_TIMEOUT_S} s; "
                                   f"see {log_path}")
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


# Installed before any page script: records, in the page's own clock, when the script run started after the
# bench's mark finished. Normally that is when Streamlit's stApp shows data-test-script-state "running" and then
# "notRunning" again. A run fast enough for React to apply both in one render never shows "running"; then the
# ForwardMsgs read off the WebSocket mark it: ``new_session`` (field 4) starts a run, ``script_finished`` (field
# 6) ends it, and the run counts as finished once two animation frames later (the page drawn) the app shows
# "notRunning". Only a run that started after the mark counts, never the end of one already going.
RUN_WATCH_JS = """
window.__novoraRun = {t0: null, running: false, started: false, done: null};
const novoraFields = (bytes) => {
  // the field numbers at the top level of a ForwardMsg
  const fields = [];
  let i = 0;
  const varint = () => {
    let v = 0, m = 1, b;
    do { b = bytes[i++]; v += (b & 127) * m; m *= 128; } while (b & 128);
    return v;
  };
  while (i < bytes.length) {
    const key = varint(), wire = key & 7;
    fields.push(Math.floor(key / 8));
    if (wire === 0) varint();
    else if (wire === 2) { const length = varint(); i += length; }  // not i += varint(): i is read first
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else break;
  }
  return fields;
};
const NovoraSocket = window.WebSocket;
window.WebSocket = class extends NovoraSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener('message', (event) => {
      const run = window.__novoraRun;
      if (run.t0 === null || run.done !== null || !(event.data instanceof ArrayBuffer)) return;
      const fields = novoraFields(new Uint8Array(event.data));
      if (fields.includes(4)) run.started = true;
      if (!fields.includes(6) || !run.started) return;
      requestAnimationFrame(() => requestAnimationFrame(() => {
        const app = document.querySelector('[data-testid="stApp"]');
        if (run.done === null && !run.running && app && app.getAttribute('data-test-script-state') === 'notRunning')
          run.done = performance.now();
      }));
    });
  }
};
new MutationObserver((records) => {
  const run = window.__novoraRun;
  for (const record of records) {
    if (run.t0 === null || record.target.getAttribute('data-testid') !== 'stApp') continue;
    const state = record.target.getAttribute('data-test-script-state');
    if (state === 'running') run.running = true;
    else if (state === 'notRunning' && run.running && run.done === null) run.done = performance.now();
  }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-test-script-state']});
"""
CLICK_TIMED_JS = """(element) => {
  const run = window.__novoraRun;
  run.t0 = performance.now(); run.running = false; run.started = false; run.done = null;
  element.click();
}"""


def wait_idle(page, timeout_ms: int = WAIT_MS) -> None:
    """Until the app is connected and no script runs."""
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(state="attached",
                                                                                        timeout=timeout_ms)


def timed_click(page, locator, timeout_ms: int = WAIT_MS) -> float:
    """Seconds from the click (in the page) until the script run it started has finished."""
    locator.evaluate(CLICK_TIMED_JS)
    page.wait_for_function("() => window.__novoraRun.done !== null", timeout=timeout_ms)
    return page.evaluate("() => window.__novoraRun.done - window.__novoraRun.t0") / 1000


def sign_in_browser(page, base_url: str, account: BenchAccount, timeout_ms: int = WAIT_MS) -> None:
    """Through the sign-in form (labels "Email" and "Password", button "Sign in"), until the navigation shows."""
    page.goto(base_url)
    page.get_by_label("Email", exact=True).fill(account.email)
    page.get_by_label("Password", exact=True).fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("stSidebarNavLink").first.wait_for(timeout=timeout_ms)
    wait_idle(page, timeout_ms)


def nav_links(page, title: str):
    """The sidebar's links to the page titled ``title`` (the link also holds its icon's ligature text)."""
    return page.get_by_test_id("stSidebarNavLink").filter(has=page.get_by_text(title, exact=True))


def nav_link(page, title: str):
    return nav_links(page, title).first


def check_page(page, title: str) -> None:
    """The run shown is the page asked for and it did not fail (its title shows; no exception box)."""
    if page.get_by_test_id("stException").count():
        raise RuntimeError(f"{title}: the page raised: {page.get_by_test_id('stException').first.inner_text()[:200]}")
    page.get_by_test_id("stMain").get_by_text(title, exact=True).first.wait_for(timeout=10_000)


def render_page(page, app_page: AppPage, away: AppPage, repeats: int) -> dict[str, object]:
    """``repeats`` cold runs (Refresh data on the page) and ``repeats`` warm visits (from ``away`` and back)."""
    refresh = page.get_by_test_id("stSidebar").get_by_role("button", name="Refresh data")
    timed_click(page, nav_link(page, app_page.title))
    check_page(page, app_page.title)
    cold, warm = [], []
    for _ in range(repeats):
        cold.append(timed_click(page, refresh))
    check_page(page, app_page.title)
    for _ in range(repeats):
        timed_click(page, nav_link(page, away.title))
        warm.append(timed_click(page, nav_link(page, app_page.title)))
    check_page(page, app_page.title)
    return render_figures(cold, warm)


def bench_render(env: Mapping[str, str], pages: Sequence[AppPage], accounts: Mapping[str, BenchAccount],
                 repeats: int, log_path: Path, progress: Progress) -> dict[str, dict[str, object]]:
    """Every page in each role's navigation, cold and warm, in Debian's Chromium against a real server."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    figures: dict[str, dict[str, object]] = {}
    with streamlit_server(env, log_path) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for role, account in accounts.items():
                context = browser.new_context(viewport=VIEWPORT, locale="en-US")
                context.add_init_script(RUN_WATCH_JS)
                page = context.new_page()
                try:
                    sign_in_browser(page, url, account)
                    visible = [p for p in pages if nav_links(page, p.title).count()]
                    for app_page in visible:
                        away = next((p for p in visible if p != app_page), app_page)
                        try:
                            figures.setdefault(app_page.title, {})[role] = result = render_page(
                                page, app_page, away, repeats)
                        except Exception as error:
                            progress(f"  {app_page.title} ({role}): {type(error).__name__}: {error}")
                            figures.setdefault(app_page.title, {})[role] = {
                                "error": f"{type(error).__name__}: {str(error).splitlines()[0]}", "met": False}
                            continue
                        progress(f"  {app_page.title} ({role}): cold p95 {result['cold']['p95_ms']} ms, "
                                 f"warm p95 {result['warm']['p95_ms']} ms")
                finally:
                    context.close()
        finally:
            browser.close()
    return figures


# ---------------------------------------------------------------- the stage


def bench_environment(config: NovoraConfig) -> dict[str, str]:
    """The environment of the app (and the pipeline) on the benchmark's warehouse, never another one."""
    env = child_environment(config)
    if not config.database_url:
        env.pop("NOVORA_DATABASE_URL", None)
    if not config.app_database_url:
        env.pop("NOVORA_APP_DATABASE_URL", None)
    return env


def measure_app(config: NovoraConfig, url: str, progress: Progress, query_repeats: int = QUERY_REPEATS,
                render_repeats: int = RENDER_REPEATS, render: bool = True) -> dict[str, object]:
    """Queries and render of every page over what the warehouse at ``url`` holds now."""
    env = bench_environment(config)
    pages = discover_pages()
    progress(f"app: {len(pages)} pages ({', '.join(p.title for p in pages)})")
    with psycopg.connect(url, autocommit=True) as conn:
        loaded = describe_warehouse(conn)
        accounts = bench_accounts(conn)
    figures: dict[str, object] = {
        "loaded": loaded,
        "pages": [{"path": p.path, "title": p.title, "roles": list(p.roles), "query_params": list(p.query_params)}
                  for p in pages],
        "accounts": {role: {"user_id": a.user_id, "teams_visible": a.teams_visible, "sample_team": a.team_id}
                     for role, a in accounts.items()},
    }
    progress(f"app: recording each page's queries in AppTest, then {query_repeats} uncached replays ...")
    queries, connect = bench_queries(url, env, pages, accounts, query_repeats, progress)
    figures["queries"] = {"repeats": query_repeats, "target_p95_ms": QUERY_TARGET_MS, "method": QUERY_METHOD,
                          "connect": connect, "data_version": time_data_version(database.app_url(config),
                                                                               query_repeats),
                          "pages": queries}
    render_figures_: dict | None = None
    if render:
        progress(f"app: rendering each page {render_repeats} times cold and warm in Chromium ...")
        try:
            render_figures_ = bench_render(env, pages, accounts, render_repeats,
                                           config.logs / "bench-streamlit.log", progress)
            figures["render"] = {"repeats": render_repeats, "target_p95_ms": RENDER_TARGET_MS,
                                 "method": RENDER_METHOD, "pages": render_figures_}
        except Exception as error:  # the query figures still come out
            progress(f"app: render stage failed: {type(error).__name__}: {error}")
            figures["render"] = {"error": f"{type(error).__name__}: {str(error).splitlines()[0]}"}
            render_figures_ = {}
    figures["targets"] = app_targets(queries, render_figures_)
    return figures


@dataclass(frozen=True)
class AppBenchOptions:
    """What ``novora bench --app-only`` loads (an org, a year of monthly surveys) and how it measures."""

    teams: int = 100
    employees_per_team: int = 500
    surveys: int = 12
    participation: float | None = None  # None: realistic per-team rates
    stage: AppStage = AppStage()
    reuse: bool = False  # measure what an earlier run loaded into the same home (the app changed, the data not)


def load_year(config: NovoraConfig, options: AppBenchOptions, progress: Progress
              ) -> tuple[dict[str, object], dict[str, float], str]:
    """Generate the org and its surveys into the bench's landing zone and run the real pipeline over them on a
    fresh warehouse: (figures of what was generated, seconds per step, the warehouse URL)."""
    from orchestration import migrate
    from orchestration.definitions import build_definitions
    from orchestration.runner import materialize_all
    from orchestration.synthetic import GenerateOptions, generate

    if config.landing.exists():
        shutil.rmtree(config.landing)
    progress(f"app: generating {options.teams} teams x {options.employees_per_team} employees and "
             f"{options.surveys} surveys ...")
    started = time.perf_counter()
    report = generate(config.landing, GenerateOptions(
        teams=options.teams, employees_per_team=options.employees_per_team, surveys=options.surveys,
        participation=options.participation))
    seconds = {"generate": time.perf_counter() - started}
    url = database.ensure_server(config)
    migrate.reset(url)
    progress("app: the real pipeline over every survey (novora materialize) ...")
    started = time.perf_counter()
    with environment(bench_environment(config)):
        summary = materialize_all(config, build_definitions(config), echo=progress)
    seconds["materialize"] = time.perf_counter() - started
    figures: dict[str, object] = {
        "machine": machine(),
        "generated": {"teams": report.teams, "employees": report.employees, "surveys": len(report.surveys),
                      "responses": report.responses, "answer_rows": report.answer_rows, "comments": report.comments,
                      "participation": options.participation if options.participation is not None else "realistic"},
        "materialize_failed_steps": [step.name for step in summary.steps if not step.ok],
    }
    return figures, seconds, url


def surveys_loaded(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        return bool(count(conn, "raw.surveys"))


def run_app_bench(home: Path, options: AppBenchOptions, progress: Progress) -> dict[str, object]:
    """``novora bench --app-only``: generate an org and a year of surveys, run the real pipeline (``novora
    materialize``) on a fresh warehouse, then measure the app (``reuse``: measure what ``home`` holds already)."""
    home.mkdir(parents=True, exist_ok=True)
    config = load_config({"NOVORA_HOME": str(home), "NOVORA_LANDING": str(home / "landing")})
    if options.reuse:
        url = database.ensure_server(config)
        if not surveys_loaded(url):
            raise RuntimeError(f"--reuse: no survey is loaded under {home}; run once without --reuse first")
        progress(f"app: measuring the warehouse already loaded under {home} (--reuse)")
        figures: dict[str, object] = {"machine": machine(), "reused": str(home)}
        seconds: dict[str, float] = {}
    else:
        figures, seconds, url = load_year(config, options, progress)
    started = time.perf_counter()
    stage = options.stage
    figures["app"] = measure_app(config, url, progress, stage.query_repeats, stage.render_repeats, stage.render)
    seconds["measure"] = time.perf_counter() - started
    figures["seconds"] = {k: round(v, 3) for k, v in seconds.items()}
    return figures
