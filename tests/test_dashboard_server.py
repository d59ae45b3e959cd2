"""``scslab serve`` trusts no client: a foreign Host or Origin is refused, a closed page's run is cancelled
and its session freed, and closed sessions leave the server's memory where it was.

Each test starts its own ``scslab serve`` on 127.0.0.1 and a free port (``test_dashboard.serving``); the
browser is Debian's Chromium driven by Playwright. Every wait is bounded.
"""

import http.client
import json
import socket
import time
import urllib.request
import uuid
from urllib.parse import urlsplit

import psutil
import pytest

from test_dashboard import _set, serving
from test_report import CHROMIUM, CHROMIUM_ARGS, chromium_or_skip

pytest.importorskip("solara")

POPULATION = "Population (agents, at most 25,000,000)"


def _http_status(port: int, host: str, origin: str | None = None) -> int:
    """The status of ``GET /`` sent to the server with these Host and Origin headers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.request("GET", "/", headers={"Host": host, **({"Origin": origin} if origin else {})})
        return conn.getresponse().status
    finally:
        conn.close()


def _ws_status(port: int, host: str, origin: str | None) -> int:
    """101 when a kernel websocket handshake with this Host and Origin is accepted, else the refusal's status."""
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    kernel = uuid.uuid4()
    uri = f"ws://{host}/jupyter/api/kernels/{kernel}/channels?session_id={uuid.uuid4()}"
    sock = socket.create_connection(("127.0.0.1", port), timeout=15)  # the host in the URI is only the header
    try:
        with connect(uri, sock=sock, origin=origin, open_timeout=15, close_timeout=5):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


def test_a_foreign_host_or_origin_is_refused_and_the_servers_own_work():
    with serving("--allow-host", "dash.example") as (url, _):
        port = urlsplit(url).port
        own = f"http://127.0.0.1:{port}"
        assert _http_status(port, f"127.0.0.1:{port}") == 200
        assert _http_status(port, f"localhost:{port}", origin=f"http://localhost:{port}") == 200
        assert _http_status(port, f"[::1]:{port}") == 200
        assert _http_status(port, "dash.example") == 200  # --allow-host: a proxy's name, any port
        assert _http_status(port, "evil.example") == 403  # DNS rebinding: a foreign name for 127.0.0.1
        assert _http_status(port, f"evil.example:{port}") == 403
        assert _http_status(port, f"127.0.0.1:{port + 1}") == 403
        assert _http_status(port, f"127.0.0.1:{port}", origin="http://evil.example") == 403
        assert _ws_status(port, f"127.0.0.1:{port}", origin=own) == 101
        assert _ws_status(port, f"127.0.0.1:{port}", origin="http://evil.example") == 403
        assert _ws_status(port, f"127.0.0.1:{port}", origin="null") == 403
        assert _ws_status(port, f"evil.example:{port}", origin=f"http://evil.example:{port}") == 403
        assert _ws_status(port, f"evil.example:{port}", origin=own) == 403


def test_the_guard_admits_only_the_servers_own_names_and_refuses_before_the_app():
    import asyncio

    from scslab.app.server import HostError, HostOriginGuard, allowed_hosts

    allowed = allowed_hosts("127.0.0.1", 8765, ["dash.example", "proxy.example:8443"])
    for host in ("127.0.0.1:8765", "LOCALHOST:8765", "[::1]:8765", "dash.example", "dash.example:1",
                 "proxy.example:8443"):
        assert allowed.admits(host, 80), host
    for host in ("127.0.0.1", "127.0.0.1:8766", "proxy.example", "evil.example", "evil.example:8765", "",
                 "127.0.0.1:8765@evil.example", "evil.example@127.0.0.1:8765", "127.0.0.1:8765/x", "127.0.0.1:x"):
        assert not allowed.admits(host, 80), host
    assert allowed.admits_origin("http://localhost:8765") and allowed.admits_origin("https://dash.example")
    for origin in ("null", "http://evil.example", "http://localhost:8766", "file://", "ws://localhost:8765",
                   "http://localhost:8765/path", "http://user@localhost:8765"):
        assert not allowed.admits_origin(origin), origin
    with pytest.raises(HostError, match="evil/x"):
        allowed_hosts("127.0.0.1", 8765, ["evil/x"])

    reached, sent = [], []

    async def app(scope, receive, send):
        reached.append(scope["type"])

    async def send(message):
        sent.append(message)

    def call(scope_type, **headers):
        scope = {"type": scope_type, "scheme": "http", "path": "/",
                 "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}
        asyncio.run(HostOriginGuard(app, allowed)(scope, None, send))

    call("websocket", host="127.0.0.1:8765", origin="http://evil.example")
    call("http", host="evil.example")
    call("http")  # no Host at all
    assert reached == [] and sent[0] == {"type": "websocket.close", "code": 1008}
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [403, 403]
    call("websocket", host="127.0.0.1:8765", origin="http://127.0.0.1:8765")
    call("lifespan")
    assert reached == ["websocket", "lifespan"]


def _kernels(url: str) -> int:
    """How many page sessions the server holds (Solara's /resourcez)."""
    with urllib.request.urlopen(url + "resourcez", timeout=15) as r:
        return json.load(r)["kernels"]["total"]


def _cores(proc: psutil.Process, seconds: float = 2.0) -> float:
    """The CPU the process used over the next ``seconds``, in cores."""
    before = sum(proc.cpu_times()[:2])
    time.sleep(seconds)
    return (sum(proc.cpu_times()[:2]) - before) / seconds


def _settled(proc: psutil.Process, timeout: float, below: float = 0.25) -> float:
    """The process's CPU use (cores, over 2 s) once it falls below ``below``; fails after ``timeout`` s."""
    deadline = time.time() + timeout
    while True:
        cores = _cores(proc)
        if cores < below:
            return cores
        if time.time() > deadline:
            pytest.fail(f"the server still uses {cores:.2f} cores {timeout:.0f} s on")


def _wait(what: str, ready, timeout: float, every: float = 0.5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = ready()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"{what}: not within {timeout:.0f} s")


def _open(browser, url: str):
    page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    page.set_default_timeout(90_000)
    page.goto(url)
    page.get_by_text("Synthetic population").wait_for()
    return page


def _day(page) -> int:
    text = page.locator(".progress-day").inner_text(timeout=5_000) if page.locator(".progress-day").count() else ""
    return int(text.split()[1]) if text.startswith("day ") else 0


def test_closing_a_page_cancels_its_run_and_frees_its_session():
    """Two pages start ten-year runs of two million agents (minutes each, holding both engine slots) and
    are closed: one as a tab closes (its close beacon), one without a word (culled after 2 s). Both runs
    stop, both sessions go, and a third page's run starts at once."""
    sync_api = chromium_or_skip()
    with serving(env={"SOLARA_KERNEL_CULL_TIMEOUT": "2s"}) as (url, proc):
        server = psutil.Process(proc.pid)
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                pages = []
                for _ in range(2):
                    page = _open(browser, url)
                    _set(page, POPULATION, 2_000_000)
                    _set(page, "Days", 3650)
                    page.get_by_role("button", name="Run").click()
                    pages.append(page)
                for page in pages:  # the first run may compile the engine first
                    _wait("a long run's first days", lambda page=page: _day(page) > 0, 240)
                busy = _cores(server)
                pages[0].close(run_before_unload=True)
                pages[1].context.close()
                _wait("both sessions freed", lambda: _kernels(url) == 0, 30)
                idle = _settled(server, 30)  # the runs stopped
                page = _open(browser, url)
                _set(page, POPULATION, 3_000)
                _set(page, "Days", 30)
                page.get_by_role("button", name="Run").click()
                page.get_by_text("Done in").wait_for(timeout=60_000)  # not queued behind the closed pages' runs
                assert page.locator(".progress-day").inner_text() == "day 30 of 30"
            finally:
                browser.close()
    assert busy > 0.5 and idle < 0.25, f"the two runs used {busy:.2f} cores, then {idle:.2f}"


@pytest.mark.slow  # about 4 minutes on a 2-core machine: python -m pytest -m slow tests/test_dashboard_server.py
def test_thirty_closed_sessions_leave_the_servers_memory_where_it_was(capsys):
    """Thirty pages, one after the other, each runs 2,000 agents for 10 days and is closed without its
    close beacon, as a crashed tab: with the default cull timeout every session goes, and the server's
    resident memory ends within 20 % of where it was after two warm-up sessions."""
    sync_api = chromium_or_skip()
    with serving(env={"SOLARA_KERNEL_CULL_TIMEOUT": None}) as (url, proc):
        server = psutil.Process(proc.pid)

        def session(browser, k):
            page = _open(browser, url)
            _set(page, POPULATION, 2_000 + k)
            _set(page, "Days", 10)
            page.get_by_role("button", name="Run").click()
            page.get_by_text("Done in").wait_for(timeout=240_000)
            page.context.close()

        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for k in range(2):
                    session(browser, k)
                _wait("the warm-up sessions freed", lambda: _kernels(url) == 0, 90)
                time.sleep(3)  # the memory they freed handed back
                before = server.memory_info().rss
                for k in range(30):
                    session(browser, k)
                _wait("thirty sessions freed", lambda: _kernels(url) == 0, 90)
                time.sleep(3)
                after = server.memory_info().rss
            finally:
                browser.close()
    with capsys.disabled():
        print(f"\nserver RSS: {before / 2**20:.0f} MiB after warm-up, {after / 2**20:.0f} MiB after 30 sessions "
              f"({after / before - 1:+.1%})")
    assert after <= 1.2 * before, f"{before / 2**20:.0f} MiB -> {after / 2**20:.0f} MiB"
