"""The dashboard in a real browser: Playwright driving Debian's Chromium against ``scslab serve`` on loopback.

End to end: load the page, change a slider, see a bad value's message beside its field, run, see the chart
drawn, follow a citizen, take screenshots (checked non-blank); switch the preset after a run and see its
results cleared; a websocket frame rewritten to carry a path for the preset is refused. Load (marked
slow): 20 concurrent page sessions, each starting a small run; all complete, none errors. Every wait is
bounded.
"""

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from test_report import CHROMIUM, CHROMIUM_ARGS, chromium_or_skip

pytest.importorskip("solara")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(*args: str, env: dict | None = None):
    """``scslab serve`` on a free loopback port, with ``args`` and the environment changed by ``env`` (a
    value of None removes the variable), until the block ends. Yields the page's URL and the process."""
    port = _free_port()
    environ = {**os.environ, **(env or {})}
    environ = {k: v for k, v in environ.items() if v is not None}
    proc = subprocess.Popen([sys.executable, "-m", "scslab", "serve", "--host", "127.0.0.1", "--port", str(port),
                             *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=environ)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 90
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail(f"scslab serve did not come up: {proc.stdout.read().decode()[-2000:]}")
        time.sleep(0.5)
    try:
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=20)


@pytest.fixture(scope="module")
def server():
    with serving() as (url, _):
        yield url


def _not_blank(path) -> tuple[float, int]:
    import matplotlib.image

    rgb = matplotlib.image.imread(path)[..., :3]
    ink = float((rgb < 0.9).any(axis=-1).mean())
    colours = len({tuple(px) for px in (rgb[::3, ::3].reshape(-1, 3) * 255).astype(int).tolist()})
    return ink, colours


def _set(page, label, value):
    """Type a number into a field and commit it; retried while the page re-renders under the cursor."""
    for _ in range(5):
        box = page.get_by_label(label, exact=True)
        box.fill(str(value))
        box.press("Enter")
        time.sleep(0.4)  # the server's answer: a re-render
        if page.get_by_label(label, exact=True).input_value() == str(value):
            return
    pytest.fail(f"the field {label!r} does not keep {value!r}")


@contextlib.contextmanager
def _loaded_page(server, prepare=None):
    """A Chromium page on the dashboard, loaded (``prepare(page)`` runs first: listeners, routes); the browser
    closes on the way out."""
    sync_api = chromium_or_skip()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.set_default_timeout(60_000)
            if prepare is not None:
                prepare(page)
            page.goto(server)
            page.get_by_text("Synthetic population").wait_for()
            yield page
        finally:
            browser.close()


def test_pick_change_run_and_follow_a_citizen(server, tmp_path):
    elsewhere = []

    def watch(page):
        page.on("request", lambda r: elsewhere.append(r.url)
                if not r.url.startswith((server, "blob:", "data:", "ws://127.0.0.1")) else None)

    with _loaded_page(server, watch) as page:
        page.screenshot(path=tmp_path / "loaded.png")
        # a bad value shows the schema's message next to its field, and the run button is disabled
        _set(page, "Population (agents, at most 25,000,000)", 99_000_000)
        page.locator(".problem-population").wait_for()
        assert "allowed" in page.locator(".problem-population").inner_text()
        assert page.get_by_role("button", name="Run").is_disabled()
        _set(page, "Population (agents, at most 25,000,000)", 20_000)
        _set(page, "Days", 60)
        page.locator(".problem-population").wait_for(state="detached")
        slider = page.locator("[role=slider]").first  # camera coverage, x the scenario's
        before = float(slider.get_attribute("aria-valuenow"))
        slider.focus()
        for _ in range(4):
            page.keyboard.press("ArrowLeft")
        time.sleep(0.5)  # the slider sends its value to the server
        after = float(slider.get_attribute("aria-valuenow"))
        assert after == pytest.approx(before - 0.2)
        page.get_by_role("button", name="Run").click()
        page.get_by_text("Done in").wait_for(timeout=120_000)
        page.get_by_text("Final day").wait_for()
        assert page.locator(".progress-day").inner_text() == "day 60 of 60"
        chart = page.locator("img").first
        chart.screenshot(path=tmp_path / "chart.png")
        page.locator(".v-select").filter(has_text="Follow a citizen").click()
        page.get_by_role("option").filter(has_text="(critic)").first.click()
        page.locator(".story-title").filter(has_text="critic").wait_for()
        assert "events" in page.locator(".story-title").inner_text()
        assert page.get_by_text("Download the run (Parquet)").count() == 1
        page.screenshot(path=tmp_path / "story.png", full_page=True)
    assert elsewhere == []  # the page loads nothing from outside this server
    for shot in ("loaded.png", "chart.png", "story.png"):
        ink, colours = _not_blank(tmp_path / shot)
        assert ink > 0.03 and colours > 20, f"{shot} looks blank: {ink:.1%} ink, {colours} colours"
    ink, colours = _not_blank(tmp_path / "chart.png")
    assert colours > 40  # four panels of coloured lines


def test_switching_the_preset_after_a_run_clears_its_results(server):
    """A run's numbers, charts and story belong to its scheme: choosing another preset clears them. The
    story table shows as many rows as its "Rows per page" says."""
    with _loaded_page(server) as page:
        images = page.locator("img").count()  # before any chart
        _set(page, "Population (agents, at most 25,000,000)", 20_000)
        _set(page, "Days", 60)
        page.get_by_role("button", name="Run").click()
        page.get_by_text("Done in").wait_for(timeout=120_000)
        page.get_by_text("Final day").wait_for()
        assert page.locator("img").count() > images  # the charts
        title = page.locator(".story-title")
        title.wait_for()
        events = int(re.search(r"(\d+) events", title.inner_text()).group(1))
        per_page = page.locator(".v-data-footer__select .v-select__selection").inner_text().strip()
        rows = page.locator(".v-data-table tbody tr").count()
        assert per_page == "10" and (events == 0 or rows == min(10, events)), (per_page, rows, events)
        page.locator(".v-select").filter(has_text="Preset").click()
        page.get_by_role("option", name="bench-v1").click()
        page.locator("h2", has_text="bench_v1").wait_for(timeout=20_000)
        page.get_by_text("Final day").wait_for(state="detached", timeout=20_000)
        assert page.locator("img").count() == images  # no chart of the previous scheme
        assert title.count() == 0 and page.get_by_text("Done in").count() == 0
        assert page.locator(".progress-day").count() == 0
        assert page.get_by_text("Download the run (Parquet)").count() == 0


def test_cancel_stops_a_long_run_on_the_page(server):
    with _loaded_page(server) as page:
        _set(page, "Population (agents, at most 25,000,000)", 5_000_000)  # about 9 s for a year
        page.get_by_role("button", name="Run").click()
        page.locator(".progress-day").filter(has_text="of 365").wait_for()
        page.get_by_role("button", name="Cancel").click()
        page.get_by_text("Stopped: the run was cancelled").wait_for(timeout=30_000)
        page.locator("button:not([disabled])", has_text="Run").wait_for(timeout=10_000)  # ready again
        assert page.get_by_text("Final day").count() == 0


def test_a_path_sent_for_the_preset_over_the_websocket_is_refused(server):
    """The page's own frames, rewritten on the way as an attacker's client would: the preset the server
    receives is a path. It answers with the list of presets, reads nothing, and shows no traceback."""
    rewritten = []

    def rewrite(ws):
        upstream = ws.connect_to_server()

        def from_page(frame):
            if isinstance(frame, str) and '"v_model":"bench-v1"' in frame:
                rewritten.append(frame)
                frame = frame.replace('"v_model":"bench-v1"', '"v_model":"/etc/passwd"')
            upstream.send(frame)

        ws.on_message(from_page)

    def route(page):
        page.route_web_socket("**/jupyter/api/kernels/**", rewrite)

    with _loaded_page(server, route) as page:
        page.locator(".v-select").filter(has_text="Preset").click()
        page.get_by_role("option", name="bench-v1").click()
        page.locator(".notice").wait_for(timeout=20_000)
        notice = page.locator(".notice").inner_text()
        body = page.locator("body").inner_text()
    assert len(rewritten) == 1
    assert "not a preset" in notice and "court-defaulters-national" in notice and "/etc" not in notice
    assert "press_2018" in body and "Traceback" not in body and "root:" not in body  # still the preset, nothing read


@pytest.mark.slow  # about 160 s on the reference machine (docs/dashboard.md): python -m pytest -m slow
def test_twenty_concurrent_sessions_each_run_to_the_end(server):
    sync_api = chromium_or_skip()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            pages = []
            for k in range(20):  # separate contexts: separate sessions
                page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
                page.set_default_timeout(90_000)
                page.goto(server)
                page.get_by_text("Synthetic population").wait_for()
                _set(page, "Population (agents, at most 25,000,000)", 3_000 + k)
                _set(page, "Days", 30)
                _set(page, "Seed", k)
                pages.append(page)
            for page in pages:
                page.get_by_role("button", name="Run").click()
            for k, page in enumerate(pages):
                page.get_by_text("Done in").wait_for(timeout=240_000)
                assert page.get_by_text("Error").count() == 0, f"session {k}"
                assert page.locator(".progress-day").inner_text() == "day 30 of 30"
        finally:
            browser.close()
