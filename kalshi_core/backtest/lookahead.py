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

REPORT_FILE = "lookahead.json"
SCHEMA = "kalshi-core.lookahead/1"

# (kind, query) of what a run decided in its first moments: before a cut, and no later than
# the last cycle both runs ran; times are stored as UTC microseconds
DECISION_QUERIES = {
    "decision": "select created_time, ticker, accepted from decisions "
    "where run_id = :run and created_time < :cut and created_time <= :last",
    "intent": "select d.created_time, i.ticker, i.side, i.action, i.price, i.count, i.strategy "
    "from order_intents i join decisions d on d.decision_id = i.decision_id "
    "where d.run_id = :run and d.created_time < :cut and d.created_time <= :last",
    "order": "select created_time, ticker, side, action, price, count, strategy, time_in_force "
    "from orders where run_id = :run and created_time < :cut and created_time <= :last",
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


def _micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000)


def decisions_before(
    database: Path, run_id: str, cut: datetime, last: datetime | None = None
) -> Counter[str]:
    """What the run decided before ``cut`` and no later than ``last`` (default: any time
    before the cut), one line per decision, intent and order."""
    found: Counter[str] = Counter()
    bound = _micros(last) if last is not None else _micros(cut)
    params = {"run": run_id, "cut": _micros(cut), "last": bound}
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
    # the last cycle both runs ran before the cut (None: the truncated run ran no cycle);
    # decisions after it are not compared: the truncated run, out of events, stopped there
    compared_until: datetime | None = None

    def as_dict(self) -> dict[str, object]:
        until = self.compared_until
        return {
            "cut": self.cut.isoformat(),
            "compared_until": until.isoformat() if until is not None else None,
            "decisions": self.compared,
            "changed": list(self.changed),
        }


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
            span = _span(cut)
            out.append(f"cut {cut.cut:%Y-%m-%d %H:%M}: {cut.compared} decisions{span}, {verdict}")
            out.extend(f"  {line}" for line in cut.changed[:SHOWN])
        out.append("look-ahead bias found" if self.biased else "no look-ahead bias found")
        return out

    def as_dict(self) -> dict[str, object]:
        """The ``lookahead.json`` document."""
        return {
            "schema": SCHEMA,
            "cuts": [cut.as_dict() for cut in self.cuts],
            "biased": self.biased,
            "verdict": self.lines()[-1],
        }


def _span(cut: CutResult) -> str:
    """How far the comparison reached, when the truncated run stopped short of its cut."""
    if cut.compared_until is None:
        return " (the truncated run ran no cycle)"
    if cut.compared_until >= cut.cut:
        return ""
    return f" (up to {cut.compared_until:%H:%M}, the truncated run's last cycle)"


@attrs.frozen(kw_only=True)
class Ran:
    run_id: str
    last_cycle: datetime | None  # the recorded time of its last cycle


def _run(base: Base, data_dir: Path, start: datetime, end: datetime, database: Path) -> Ran:
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
    cycles: list[datetime] = []
    run = asyncio.run(run_backtest(spec, lambda tally, venue: cycles.append(venue.clock.now())))
    return Ran(run_id=run.run_id, last_cycle=max(cycles, default=None))


def cut_points(start: datetime, end: datetime, cuts: int) -> list[datetime]:
    """``cuts`` moments spread evenly inside ``(start, end)``."""
    if start >= end or cuts < 1:
        raise ConfigError(f"look-ahead check: {start} .. {end} with {cuts} cuts is empty")
    return [start + (end - start) * k / (cuts + 1) for k in range(1, cuts + 1)]


def check(
    base: Base, start: datetime, end: datetime, output: Path, cuts: int = 3
) -> LookaheadReport:
    """Backtest the full window, then each truncated copy; compare decisions before each cut.

    A truncated run stops at its last recorded event, which may come before the cut: its
    clock never reaches the cycles after it, so those are left out of the comparison (only
    moments both runs decided at are compared; a decision that peeked at the future differs
    at a moment both ran). The report also goes to ``output/lookahead.json``."""
    points = cut_points(start, end, cuts)  # a bad window is refused before any run
    folder = output / "lookahead"
    folder.mkdir(parents=True, exist_ok=True)
    source = Path(base.data_dir)
    sets = list(base.data_sets) or sorted(p.parent.name for p in source.glob(f"*/{MARKETS}"))
    full = _run(base, source, start, end, folder / "full.sqlite3")
    results = []
    for index, cut in enumerate(points, start=1):
        data = truncate_history(source, sets, cut, folder / f"history-cut{index}")
        truncated = _run(base, data, start, cut, folder / f"cut{index}.sqlite3")
        results.append(compare_cut(folder, full, truncated, cut, index))
    report = LookaheadReport(cuts=tuple(results))
    (output / REPORT_FILE).write_text(
        json.dumps(report.as_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return report


def compare_cut(folder: Path, full: Ran, truncated: Ran, cut: datetime, index: int) -> CutResult:
    """The decisions of both runs before ``cut``, up to the last cycle both ran (none when
    either ran no cycle)."""
    ends = [full.last_cycle, truncated.last_cycle]
    last = min(e for e in ends if e is not None) if None not in ends else None
    before: Counter[str] = Counter()
    after: Counter[str] = Counter()
    if last is not None:
        before = decisions_before(folder / "full.sqlite3", full.run_id, cut, last)
        after = decisions_before(folder / f"cut{index}.sqlite3", truncated.run_id, cut, last)
    changed = sorted((before - after).keys() | (after - before).keys())
    marked = tuple(f"{'full' if line in before else 'truncated'} only: {line}" for line in changed)
    return CutResult(
        cut=cut,
        compared=sum(before.values()),
        changed=marked,
        compared_until=min(last, cut) if last is not None else None,
    )
