"""A damaged data file (cut short, not gzip, not UTF-8) is a WireFormatError naming the file,
and the line when one was read, for every file kind the loaders and ``fit`` read: never a bare
EOFError (click's silent ``Aborted!``) or a gzip traceback."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from kalshi_core.errors import WireFormatError
from kalshi_core.exchange.replay import load_history
from kalshi_core.forecasting.fitting import load_data_set, price_derived_results
from kalshi_core.history_format import history_lines
from tests.replay.test_loaders import TICKER, csv_set, fixed_point_set

Damage = Callable[[Path], None]

CUT_SHORT = r"the file ends early: it was cut short"
NOT_GZIP = r"not a gzip file"
NOT_UTF8 = r"not UTF-8"


def cut_in_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def garbage(path: Path) -> None:
    path.write_text("garbage\n")


def latin1_line(path: Path) -> None:
    path.write_bytes(path.read_bytes() + b'{"ticker": "caf\xe9"}\n')


def bundled_copy(root: Path, shared_data_dir: Path, name: str) -> Path:
    shutil.copytree(shared_data_dir / name, root / name)
    return root / name


@pytest.mark.parametrize(
    ("data_set", "file", "damage", "message"),
    [
        ("kxinxu", "trades.jsonl.gz", cut_in_half, rf"trades\.jsonl\.gz:\d+: {CUT_SHORT}"),
        ("kxinxu", "trades.jsonl.gz", garbage, rf"kxinxu/trades\.jsonl\.gz: {NOT_GZIP}"),
        ("crypto15m", "quotes.jsonl.gz", cut_in_half, rf"quotes\.jsonl\.gz:\d+: {CUT_SHORT}"),
        ("crypto15m", "quotes.jsonl.gz", garbage, rf"crypto15m/quotes\.jsonl\.gz: {NOT_GZIP}"),
        ("kxinxu", "markets.jsonl", latin1_line, rf"markets\.jsonl:\d+: {NOT_UTF8}"),
    ],
)
def test_a_damaged_bundled_set_names_the_file(
    tmp_path: Path, shared_data_dir: Path, data_set: str, file: str, damage: Damage, message: str
) -> None:
    folder = bundled_copy(tmp_path, shared_data_dir, data_set)
    damage(folder / file)
    with pytest.raises(WireFormatError, match=message):
        load_history(tmp_path, [data_set])
    with pytest.raises(WireFormatError, match=message):  # what ``kalshi-core fit`` reads
        load_data_set(tmp_path, data_set)


@pytest.mark.parametrize("file", ["trades.jsonl.gz", "quotes.jsonl.gz"])
@pytest.mark.parametrize(("damage", "message"), [(cut_in_half, CUT_SHORT), (garbage, NOT_GZIP)])
def test_a_damaged_fixed_point_set_names_the_file(
    tmp_path: Path, file: str, damage: Damage, message: str
) -> None:
    folder = fixed_point_set(tmp_path)
    damage(folder / file)
    with pytest.raises(WireFormatError, match=rf"fp/{re.escape(file)}(:\d+)?: {message}"):
        load_history(tmp_path, ["fp"])


def test_a_cut_gzip_names_the_line_it_broke_in(tmp_path: Path, shared_data_dir: Path) -> None:
    folder = bundled_copy(tmp_path, shared_data_dir, "kxinxu")
    whole = sum(1 for _ in history_lines(folder / "trades.jsonl.gz"))
    cut_in_half(folder / "trades.jsonl.gz")
    with pytest.raises(WireFormatError) as raised:
        list(history_lines(folder / "trades.jsonl.gz"))
    line = int(str(raised.value).split(":")[1])
    assert 1 < line < whole  # about half way, and the lines before it were read


def test_a_markets_file_that_is_not_utf8_names_the_file_for_fit(tmp_path: Path) -> None:
    folder = fixed_point_set(tmp_path)
    latin1_line(folder / "markets.jsonl")
    with pytest.raises(WireFormatError, match=rf"fp/markets\.jsonl:2: {NOT_UTF8}"):
        price_derived_results(tmp_path, "fp")


def test_a_csv_file_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    folder = csv_set(tmp_path, [[TICKER, "2026-03-01T10:05:00Z", "0.42", "10", "yes"]])
    (folder / "trades.csv").write_bytes((folder / "trades.csv").read_bytes() + b"caf\xe9,x\n")
    with pytest.raises(WireFormatError, match=r"mine/trades\.csv(:\d+)?: cannot read it"):
        load_history(tmp_path, ["mine"])
