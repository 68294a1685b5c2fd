"""The dashboard in a real browser during a paper run (``kalshi-core run`` on the local
exchange, the suite's trading curve): orders and P&L change on the page without a reload,
every control is refused without the token and done with it, and the screenshots in
docs/images/dashboard-*.png are taken on the way."""

from __future__ import annotations

import os
import queue
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TRADING_MECHANICS

REPO = Path(__file__).resolve().parents[2]
IMAGES = REPO / "docs" / "images"
TOKEN = "browser-test-token-0123456789"
WAIT_MS = 120_000
CONTROLS = [
    ("pause", "Pause entries", "pause_entries"),
    ("cancel", "Cancel resting", "cancel_resting"),
    ("flatten", "Flatten", "flatten"),
    ("stop", "Stop", "stop"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_env(folder: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KALSHI_")}
    env |= {
        "KALSHI_LOAD_PLUGINS": "builtin",
        "KALSHI_DATABASE__URL": f"sqlite+aiosqlite:///{folder / 'run.sqlite3'}",
        "XDG_DATA_HOME": str(folder / "data"),
        "KALSHI_RUN__CYCLE_SECONDS": "600",
        "KALSHI_MONITORING__PORT": "0",
        "KALSHI_LOGGING__FORMAT": "text",
        "KALSHI_DASHBOARD__ENABLED": "true",
        "KALSHI_DASHBOARD__PORT": str(port),
        "KALSHI_DASHBOARD__TOKEN": TOKEN,
        "KALSHI_DASHBOARD__REFRESH_SECONDS": "0.5",
        "KALSHI_DASHBOARD__ROWS": "8",  # screenshots of a readable size
        "KALSHI_DASHBOARD__REPORTS_DIR": str(folder / "backtests"),
        **TRADING_MECHANICS,
    }
    return env


def kalshi_core(*args: str) -> list[str]:
    """The installed ``kalshi-core`` script of this interpreter's environment."""
    return [str(Path(sys.executable).with_name("kalshi-core")), *args]


def backtests(folder: Path, env: dict[str, str]) -> None:
    """Two report folders for the reports views: one real backtest and a copy."""
    output = folder / "backtests" / "kxinxu-afternoon"
    window = ["--from", "2026-01-05T17:00", "--to", "2026-01-05T18:30"]
    args = kalshi_core("backtest", "--data-set", "kxinxu", *window, "--output", str(output))
    subprocess.run(args, env=env, cwd=folder, check=True, capture_output=True, timeout=600)
    shutil.copytree(output, folder / "backtests" / "kxinxu-afternoon-copy")


@pytest.fixture
def paper_run(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str], Path]]:
    """``kalshi-core run`` with the dashboard on; yields its URL once it serves."""
    port = free_port()
    env = run_env(tmp_path, port)
    backtests(tmp_path, env)
    window = ["--from", "2026-01-02T13:00", "--cycles", "3000", "--speed", "1200"]
    process = subprocess.Popen(
        kalshi_core("run", *window),
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(x) for x in process.stdout or ()], daemon=True
    ).start()
    url = f"http://127.0.0.1:{port}"
    try:
        while f"dashboard at {url}" not in lines.get(timeout=WAIT_MS / 1000):
            pass
        yield url, process, tmp_path
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=120)


def number(page: Any, selector: str, attribute: str) -> int:
    value = page.get_attribute(selector, attribute)
    return int(value) if value else 0


def press(page: Any, label: str, token: str) -> str:
    """Press a control, confirm it in the dialog with ``token``; the result line's text."""
    page.get_by_role("button", name=label, exact=True).click()
    dialog = page.locator("dialog#confirm")
    dialog.wait_for(state="visible")
    page.get_by_label("Dashboard token").fill(token)
    page.locator("#control-result").evaluate("node => { node.textContent = ''; }")
    dialog.get_by_role("button", name=f"Confirm {label.lower()}").click()
    page.wait_for_function("document.getElementById('control-result').textContent !== ''")
    return str(page.text_content("#control-result"))


def test_the_dashboard_follows_a_paper_run_and_its_controls_stop_it(
    browser: Any, paper_run: tuple[str, subprocess.Popen[str], Path]
) -> None:
    url, process, folder = paper_run
    IMAGES.mkdir(parents=True, exist_ok=True)
    # The test's own probes are evaluated strings, which the page's CSP (no eval) forbids.
    page = browser.new_page(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page.set_default_timeout(WAIT_MS)
    page.goto(url + "/")
    page.wait_for_function("document.getElementById('live-state').textContent.startsWith('Live:')")
    sees_orders_and_pnl_change(page)
    page.screenshot(path=str(IMAGES / "dashboard-live.png"), full_page=True)
    phone_screenshot(browser, url)
    reports_screenshots(page, url)
    page.goto(url + "/")
    every_control_refused_without_the_token(page)
    every_control_done_with_the_token(page)
    assert process.wait(timeout=WAIT_MS / 1000) == 0
    with sqlite3.connect(folder / "run.sqlite3") as db:
        rows = db.execute("select message from audit_events where kind = 'dashboard_control'")
        pressed = [m.split(":")[1].split()[0] for (m,) in rows.fetchall()]
    assert pressed == ["pause", "cancel", "flatten", "stop"]


def sees_orders_and_pnl_change(page: Any) -> None:
    """Orders stored and equity both move while the page stays loaded (no reload)."""
    page.evaluate("window.__loaded = performance.timeOrigin")
    orders = number(page, "[data-order-count]", "data-order-count")
    page.wait_for_function(
        f"Number(document.querySelector('[data-order-count]').dataset.orderCount) > {orders}"
    )
    equity = page.get_attribute("[data-equity]", "data-equity")
    page.wait_for_function(
        "(() => { const e = document.querySelector('[data-equity]');"
        f" return e && e.dataset.equity !== '' && e.dataset.equity !== {equity!r}; }})()"
    )
    assert page.evaluate("window.__loaded === performance.timeOrigin")  # the same document
    assert page.locator("#pnl svg path.series").count() == 1
    page.wait_for_function("document.querySelectorAll('#fills tbody tr').length > 0")


def phone_screenshot(browser: Any, url: str) -> None:
    phone = browser.new_page(
        viewport={"width": 390, "height": 844}, is_mobile=True, bypass_csp=True
    )
    phone.goto(url + "/")
    widest = phone.evaluate("document.documentElement.scrollWidth")
    assert widest <= 390, f"the page scrolls sideways on a phone ({widest}px)"
    phone.screenshot(path=str(IMAGES / "dashboard-phone.png"))
    phone.close()


def reports_screenshots(page: Any, url: str) -> None:
    page.goto(url + "/reports")
    page.get_by_role("link", name="kxinxu-afternoon", exact=True).wait_for()
    page.screenshot(path=str(IMAGES / "dashboard-reports.png"), full_page=True)
    page.get_by_role("link", name="kxinxu-afternoon", exact=True).click()
    frame = page.frame_locator("iframe.report")
    frame.locator("svg").first.wait_for()
    page.screenshot(path=str(IMAGES / "dashboard-report.png"))
    page.goto(url + "/reports")
    page.get_by_label("A", exact=True).select_option("kxinxu-afternoon")
    page.get_by_label("B", exact=True).select_option("kxinxu-afternoon-copy")
    page.get_by_role("button", name="Compare").click()
    page.get_by_role("rowheader", name="net P&L", exact=True).wait_for()
    page.screenshot(path=str(IMAGES / "dashboard-compare.png"), full_page=True)


def every_control_refused_without_the_token(page: Any) -> None:
    for _, label, _ in CONTROLS:
        said = press(page, label, "not-the-token")
        assert "refused (401)" in said, said
    assert page.get_attribute("[data-level]", "data-level") == "running"


def every_control_done_with_the_token(page: Any) -> None:
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Pause entries", exact=True).focus()
    page.keyboard.press("Enter")  # the controls work from the keyboard
    page.locator("dialog#confirm").wait_for(state="visible")
    page.get_by_label("Dashboard token").fill(TOKEN)
    page.screenshot(path=str(IMAGES / "dashboard-confirm.png"))
    page.get_by_role("button", name="Cancel", exact=True).click()
    for _, label, level in CONTROLS:
        said = press(page, label, TOKEN)
        assert f"stop level now {level}" in said, said
        if level != "stop":
            page.wait_for_function(
                f"document.querySelector('[data-level]').dataset.level === '{level}'"
            )
