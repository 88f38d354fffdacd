"""The app benchmark's render clock (``orchestration.bench_app``) against a real Streamlit server and Chromium: a
page is timed from the click until its script run has finished and been drawn, whether the run is slow enough for
the app to show "running" or so fast that it never does."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestration import bench_app
from tests.e2e.conftest import CHROMIUM

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (apt-get install -y chromium)"),
]

SLEEP_S = 0.4

APP = f'''
import time
import streamlit as st

def quick():
    st.title("Quick")
    st.write("nothing to wait for")

def slow():
    time.sleep({SLEEP_S})
    st.title("Slow")

st.navigation([st.Page(quick, title="Quick"), st.Page(slow, title="Slow")]).run()
'''


def test_the_render_clock_times_slow_and_instant_pages(tmp_path: Path, browser) -> None:
    app_file = tmp_path / "clock_app.py"
    app_file.write_text(APP, encoding="utf-8")
    with bench_app.streamlit_server(dict(os.environ), tmp_path / "streamlit.log", app_file) as url:
        context = browser.new_context(viewport=bench_app.VIEWPORT)
        context.add_init_script(bench_app.RUN_WATCH_JS)
        page = context.new_page()
        try:
            page.goto(url)
            bench_app.wait_idle(page)
            quick, slow = [], []
            for _ in range(3):
                slow.append(bench_app.timed_click(page, bench_app.nav_link(page, "Slow"), timeout_ms=20_000))
                bench_app.check_page(page, "Slow")
                quick.append(bench_app.timed_click(page, bench_app.nav_link(page, "Quick"), timeout_ms=20_000))
                bench_app.check_page(page, "Quick")
        finally:
            context.close()
    # the slow page's script alone sleeps SLEEP_S: the clock cannot stop before it has run
    assert all(SLEEP_S <= seconds < SLEEP_S + 5 for seconds in slow), slow
    # the quick page is measured too (it used to never show "running" and time out), and well under the slow one
    assert all(0 < seconds < SLEEP_S for seconds in quick), quick


def forward_msgs() -> list[tuple[str, bytes]]:
    """Real ForwardMsgs of a page run, as Streamlit serialises them: keys of one and two bytes (navigation is field
    23), lengths of one and two bytes (a delta over 127 bytes)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    messages = []
    new_session = ForwardMsg(hash="a" * 32)
    new_session.metadata.delta_path[:] = [0, 1]
    new_session.new_session.main_script_path = "clock_app.py"
    new_session.new_session.page_script_hash = "p" * 32
    messages.append(new_session)
    navigation = ForwardMsg()
    navigation.navigation.position = 1
    navigation.navigation.page_script_hash = "p" * 32
    messages.append(navigation)
    delta = ForwardMsg(hash="b" * 32)
    delta.metadata.delta_path[:] = [0, 0]
    delta.delta.new_element.markdown.body = "x" * 300
    messages.append(delta)
    finished = ForwardMsg()
    finished.metadata.delta_path[:] = [0]
    finished.script_finished = ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY
    messages.append(finished)
    return [(m.WhichOneof("type"), m.SerializeToString()) for m in messages]


def test_the_render_clock_reads_the_top_level_fields_of_forward_msgs(browser) -> None:
    """The clock's WebSocket reader must find new_session (4) and script_finished (6) whatever the lengths before
    them: it once skipped each length-delimited field one byte short, never saw field 4, and a page too fast to
    show "running" then timed out."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    page = browser.new_page()
    try:
        page.add_script_tag(content=bench_app.RUN_WATCH_JS)
        for kind, payload in forward_msgs():
            message = ForwardMsg()
            message.ParseFromString(payload)
            present = sorted(field.number for field, _ in message.ListFields())
            fields = page.evaluate("(bytes) => novoraFields(new Uint8Array(bytes))", list(payload))
            assert sorted(fields) == present, (kind, fields, present)
        assert [kind for kind, _ in forward_msgs()] == ["new_session", "navigation", "delta", "script_finished"]
    finally:
        page.close()
