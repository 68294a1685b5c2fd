"""The look-ahead check: does any decision depend on what had not happened yet?

freqtrade's ``lookahead-analysis`` is the model. The window is backtested once on the full
history, then again on **truncated copies** of it, each ending at a cut point: markets listed
after the cut are gone, no trade or quote after it survives, and a market still open at the
cut has the opposite of its real result. Every decision made before a cut (the decisions with
their verdicts, the order intents, the orders) must be identical in the full run and the
truncated one. One that changed was made with knowledge of the future: a look-ahead bias.

Each truncated copy replaces the history everywhere a run reads it: the ``--data`` folder and
the ``exchange.data_dir`` setting. A plugin that reads files of its own choosing elsewhere is
beyond what truncation can reveal.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import attrs

from kalshi_core.backtest.runner import BacktestSpec, run_backtest
from kalshi_core.backtest.sweep import Base
from kalshi_core.errors import ConfigError

MARKETS = "markets.jsonl"
# file -> the field that dates a record
TIMED_FILES = {"trades.jsonl.gz": "created_time", "quotes.jsonl.gz": "ts"}
FLIPPED = {"yes": "no", "no": "yes"}
SHOWN = 20  # changed decisions listed per cut

# (kind, query) of what a run decided before a cut; times are stored as UTC microseconds
DECISION_QUERIES = {
    "decision": "select created_time, ticker, accepted from decisions "
    "where run_id = :run and created_time < :cut",
    "intent": "select d.created_time, i.ticker, i.side, i.action, i.price, i.count, i.strategy "
    "from order_intents i join decisions d on d.decision_id = i.decision_id "
    "where d.run_id = :run and d.created_time < :cut",
    "order": "select created_time, ticker, side, action, price, count, strategy, time_in_force "
    "from orders where run_id = :run and created_time < :cut",
}


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def read_records(path: Path) -> Iterator[dict[str, object]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def write_records(path: Path, records: list[dict[str, object]]) -> None:
    text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode(), mtime=0))
    else:
        path.write_text(text, encoding="utf-8")


def _as_of(market: dict[str, object], cut: datetime) -> dict[str, object]:
    """The market as it stood at ``cut``. One still open then gets the *opposite* result: the
    history format needs one, an honest run (which ends at the cut) never reaches it, and a
    run that reads it anyway is told the future that did not happen, so its decisions move."""
    if parse_time(str(market["close_time"])) <= cut:
        return market
    return {**market, "result": FLIPPED.get(str(market.get("result")), "no")}


def truncate_history(source: Path, sets: list[str], cut: datetime, target: Path) -> Path:
    """Copies of data sets ``sets`` of ``source`` as they stood at ``cut``, under ``target``."""
    for name in sets:
        folder, copy = source / name, target / name
        if not (folder / MARKETS).is_file():
            raise ConfigError(f"data set {name!r} has no {MARKETS} in {source}")
        copy.mkdir(parents=True, exist_ok=True)
        listed = [
            m for m in read_records(folder / MARKETS) if parse_time(str(m["open_time"])) < cut
        ]
        write_records(copy / MARKETS, [_as_of(m, cut) for m in listed])
        for file, field in TIMED_FILES.items():
            if (folder / file).is_file():
                kept = [r for r in read_records(folder / file) if parse_time(str(r[field])) <= cut]
                write_records(copy / file, kept)
    return target


def decisions_before(database: Path, run_id: str, cut: datetime) -> Counter[str]:
    """What the run decided before ``cut``, one line per decision, intent and order."""
    found: Counter[str] = Counter()
    params = {"run": run_id, "cut": int(cut.timestamp() * 1_000_000)}
    with sqlite3.connect(database) as db:
        for kind, query in DECISION_QUERIES.items():
            for row in db.execute(query, params):
                moment = datetime.fromtimestamp(row[0] / 1_000_000).isoformat()
                found[f"{kind} at {moment}: {' '.join(map(str, row[1:]))}"] += 1
    return found


@attrs.frozen(kw_only=True)
class CutResult:
    cut: datetime
    compared: int
    changed: tuple[str, ...]


@attrs.frozen(kw_only=True)
class LookaheadReport:
    cuts: tuple[CutResult, ...]

    @property
    def biased(self) -> bool:
        return any(cut.changed for cut in self.cuts)

    def lines(self) -> list[str]:
        out = []
        for cut in self.cuts:
            verdict = f"{len(cut.changed)} CHANGED" if cut.changed else "none changed"
            out.append(f"cut {cut.cut:%Y-%m-%d %H:%M}: {cut.compared} decisions, {verdict}")
            out.extend(f"  {line}" for line in cut.changed[:SHOWN])
        out.append("look-ahead bias found" if self.biased else "no look-ahead bias found")
        return out


def _run(base: Base, data_dir: Path, start: datetime, end: datetime, database: Path) -> str:
    database.unlink(missing_ok=True)
    spec = BacktestSpec(
        database_url=f"sqlite+aiosqlite:///{database}",
        data_dir=str(data_dir),
        data_sets=base.data_sets,
        start=start,
        end=end,
        strategies=base.strategies,
        overrides={**base.overrides, "exchange.data_dir": str(data_dir)},
        run_id=database.stem,
        settings_file=base.settings_file,
        env=base.env,
    )
    return asyncio.run(run_backtest(spec)).run_id


def cut_points(start: datetime, end: datetime, cuts: int) -> list[datetime]:
    """``cuts`` moments spread evenly inside ``(start, end)``."""
    if start >= end or cuts < 1:
        raise ConfigError(f"look-ahead check: {start} .. {end} with {cuts} cuts is empty")
    return [start + (end - start) * k / (cuts + 1) for k in range(1, cuts + 1)]


def check(
    base: Base, start: datetime, end: datetime, output: Path, cuts: int = 3
) -> LookaheadReport:
    """Backtest the full window, then each truncated copy; compare decisions before each cut."""
    points = cut_points(start, end, cuts)  # a bad window is refused before any run
    folder = output / "lookahead"
    folder.mkdir(parents=True, exist_ok=True)
    source = Path(base.data_dir)
    sets = list(base.data_sets) or sorted(p.parent.name for p in source.glob(f"*/{MARKETS}"))
    full = _run(base, source, start, end, folder / "full.sqlite3")
    results = []
    for index, cut in enumerate(points, start=1):
        data = truncate_history(source, sets, cut, folder / f"history-cut{index}")
        run_id = _run(base, data, start, cut, folder / f"cut{index}.sqlite3")
        before = decisions_before(folder / "full.sqlite3", full, cut)
        after = decisions_before(folder / f"cut{index}.sqlite3", run_id, cut)
        changed = sorted((before - after).keys() | (after - before).keys())
        marked = tuple(
            f"{'full' if line in before else 'truncated'} only: {line}" for line in changed
        )
        results.append(CutResult(cut=cut, compared=sum(before.values()), changed=marked))
    return LookaheadReport(cuts=tuple(results))
