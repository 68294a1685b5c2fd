"""Backtest reports in the dashboard: listed by run, opened, compared; a name that reaches
outside the reports folder is refused before any file is read."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import httpx
import pytest

from kalshi_core.dashboard import reports


async def test_reports_are_listed_by_run(http: httpx.AsyncClient, reports_dir: Path) -> None:
    page = await http.get("/reports")
    assert page.status_code == 200
    run_id = json.loads((reports_dir / "first" / "results.json").read_text())["run"]["run_id"]
    assert run_id in page.text
    assert 'href="/reports/first"' in page.text
    assert 'href="/reports/second"' in page.text
    assert 'action="/compare"' in page.text


async def test_a_report_opens_in_the_app(http: httpx.AsyncClient) -> None:
    wrapper = await http.get("/reports/first")
    assert wrapper.status_code == 200
    assert '<iframe class="report" src="/reports/first/report.html"' in wrapper.text
    body = await http.get("/reports/first/report.html")
    assert body.status_code == 200
    assert body.text.count("<svg") >= 3
    assert "Backtest" in body.text


async def test_two_runs_side_by_side(http: httpx.AsyncClient) -> None:
    page = await http.get("/compare", params={"a": "first", "b": "second"})
    assert page.status_code == 200
    assert "net P&amp;L" in page.text
    assert "Sharpe" in page.text
    assert page.text.count("<tr>") > 10


@pytest.mark.parametrize(
    "path",
    [
        "/reports/..",
        "/reports/%2e%2e",
        "/reports/..%2F..%2Fetc",
        "/reports/%2e%2e%2f%2e%2e%2fetc%2fpasswd/report.html",
        "/reports/.hidden",
        "/reports/nope",
        "/reports/nope/report.html",
        "/compare?a=first&b=../../etc",
        "/compare?a=first&b=%2Fetc",
        "/compare?a=first",
    ],
)
async def test_a_name_outside_the_folder_is_refused(http: httpx.AsyncClient, path: str) -> None:
    status, body = await raw_get(http, path)
    assert status == 404, body
    assert "root:" not in body


async def raw_get(http: httpx.AsyncClient, path: str) -> tuple[int, str]:
    """``GET path`` sent as written: an HTTP client would resolve ``..`` before sending."""
    host, port = http.base_url.host, http.base_url.port
    reader, writer = await asyncio.open_connection(host, port)
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    writer.write(request.encode())
    await writer.drain()
    answer = (await reader.read()).decode(errors="replace")
    writer.close()
    await writer.wait_closed()
    return int(answer.split(" ", 2)[1]), answer


def test_a_symlink_out_of_the_folder_is_not_a_report(tmp_path: Path, reports_dir: Path) -> None:
    root = tmp_path / "reports"
    root.mkdir()
    os.symlink(reports_dir / "first", root / "linked")
    with pytest.raises(reports.ReportNotFound):
        reports.report_dir(root, "linked")
    assert reports.listing(root) == []


def test_a_broken_results_file_is_skipped_in_the_list_and_refused_alone(tmp_path: Path) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "results.json").write_text("{not json")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "results.json").write_text('{"schema_version": -1}')
    assert reports.listing(tmp_path) == []
    with pytest.raises(reports.ReportNotFound, match="cannot be read"):
        reports.load(tmp_path, "broken")
    with pytest.raises(reports.ReportNotFound, match="cannot be read"):
        reports.load(tmp_path, "old")


def test_a_missing_reports_folder_lists_nothing(tmp_path: Path) -> None:
    assert reports.listing(tmp_path / "absent") == []
