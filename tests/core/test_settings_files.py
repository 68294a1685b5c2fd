"""A settings file is applied whole or refused: never a limit silently dropped, never a
traceback. Each case goes through the real command line (``kalshi_core.cli.main``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kalshi_core.cli import main
from kalshi_core.storage.settings import default_database_path

SECTIONS_HINT = "settings go inside one of [default], [development], [staging], [production]"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def refused_with(err: str, expected: str) -> None:
    """Exactly one line, ``Error: ...`` as expected, and no traceback."""
    assert err == f"Error: {expected}\n"
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "name", "kind"),
    [
        ("[risk]\nmax_position_pct = 0.5\n", "risk", "table"),
        ("risk.max_position_pct = 0.5\n", "risk", "table"),
        (
            "[default.risk]\nmax_order_contracts = 3\n\n[risk]\nmax_position_pct = 0.5\n",
            "risk",
            "table",
        ),
        ('mode = "live"\n\n[default.risk]\nmax_position_pct = 0.5\n', "mode", "key"),
        ("[prod.risk]\nmax_position_pct = 0.5\n", "prod", "table"),
    ],
)
@pytest.mark.parametrize("env", ["development", "production"])
@pytest.mark.parametrize("command", [["config", "show"], ["config", "validate", "--strict"]])
def test_settings_outside_an_environment_section_are_refused_not_dropped(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    name: str,
    kind: str,
    env: str,
    command: list[str],
) -> None:
    user = tmp_path / "t6.toml"
    user.write_text(content)
    code, out, err = cli(capsys, "--settings", str(user), "--env", env, *command)
    assert code == 2
    assert out == ""  # neither the settings nor "settings are valid"
    example = f"[default.{name}]" if kind == "table" else f"{name} under [default]"
    refused_with(
        err,
        f"{user}: top-level {kind} {name!r} is not an environment section and would be "
        f"ignored: {SECTIONS_HINT} (write {example})",
    )


def test_the_same_file_from_kalshi_settings_file_is_refused_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    user = tmp_path / "t6.toml"
    user.write_text("[risk]\nmax_position_pct = 0.5\n")
    monkeypatch.setenv("KALSHI_SETTINGS_FILE", str(user))
    code, _, err = cli(capsys, "config", "validate")
    assert code == 2
    assert err.startswith(f"Error: {user}: top-level table 'risk' is not an environment section")


def test_the_same_limit_under_default_applies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    user = tmp_path / "t6.toml"
    user.write_text("[default.risk]\nmax_position_pct = 0.5\n")
    code, out, _ = cli(capsys, "--settings", str(user), "--env", "production", "config", "show")
    assert code == 0
    assert "risk.max_position_pct = 0.5\n" in out


def test_a_secrets_file_outside_its_sections_is_refused_without_showing_its_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets = tmp_path / ".secrets.toml"  # the working directory is tmp_path
    secrets.write_text('[kalshi]\nprivate_key = "TOP-SECRET-PEM"\n')
    code, _, err = cli(capsys, "config", "show")
    assert code == 2
    assert err.startswith(f"Error: {secrets}: top-level table 'kalshi' is not an environment")
    assert "TOP-SECRET-PEM" not in err


def test_a_malformed_file_is_one_line_naming_it_with_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[default]\nrisk.max_position_pct = \n")
    code, _, err = cli(capsys, "--settings", str(bad), "config", "validate")
    assert code == 2
    refused_with(err, f"{bad}: not valid TOML: Invalid value (at line 2, column 25)")


def test_a_malformed_secrets_file_does_not_echo_its_content(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secrets = tmp_path / ".secrets.toml"
    secrets.write_text('[default.kalshi]\nprivate_key = "TOP-SECRET-PEM\n')
    code, _, err = cli(capsys, "config", "show")
    assert code == 2
    assert err.startswith(f"Error: {secrets}: not valid TOML: ")
    assert "TOP-SECRET-PEM" not in err
    assert "Traceback" not in err


def test_a_file_that_is_not_utf8_is_one_line_naming_the_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    binary = tmp_path / "bin.toml"
    data = b'[default]\nmode = "\xff\xfe"\n'
    binary.write_bytes(data)
    code, _, err = cli(capsys, "--settings", str(binary), "config", "validate")
    assert code == 2
    offset = data.index(b"\xff")
    refused_with(err, f"{binary}: not valid TOML: not UTF-8 text (byte 0xff at offset {offset})")


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".conf", ""])
def test_a_file_not_named_toml_is_refused_because_it_would_not_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    other = tmp_path / f"settings{suffix}"
    other.write_text("[default.risk]\nmax_position_pct = 0.5\n")  # valid TOML all the same
    code, _, err = cli(capsys, "--settings", str(other), "config", "show")
    assert code == 2
    refused_with(
        err,
        f"{other}: settings files are TOML and their name must end in .toml "
        "(any other file is not read)",
    )


def test_a_directory_is_named_as_a_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(capsys, "--settings", str(tmp_path), "config", "validate")
    assert code == 2
    refused_with(
        err,
        f"settings file {tmp_path} (from --settings or KALSHI_SETTINGS_FILE) is a directory, "
        "not a file",
    )


def test_a_missing_file_still_says_it_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.toml"
    code, _, err = cli(capsys, "--settings", str(missing), "config", "validate")
    assert code == 2
    refused_with(
        err, f"settings file {missing} (from --settings or KALSHI_SETTINGS_FILE) does not exist"
    )


def test_config_show_says_where_the_empty_database_url_puts_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    code, out, _ = cli(capsys, "config", "show")
    assert code == 0
    path = tmp_path / "data" / "kalshi-core" / "kalshi-core.sqlite3"
    assert default_database_path() == path
    assert f'database.url = ""  # default: {path} (in the user data directory)\n' in out
    code, out, _ = cli(capsys, "config", "show", "--json")
    assert json.loads(out)["database"]["url"] == ""  # the machine-readable value is unchanged


def test_a_set_database_url_is_masked_without_the_note(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KALSHI_DATABASE__URL", "postgresql+asyncpg://me:pw@127.0.0.1/db")
    code, out, _ = cli(capsys, "config", "show")
    assert code == 0
    assert 'database.url = "********"\n' in out
    assert "pw" not in out


def test_loss_streak_max_probability_is_described_as_a_probability(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KALSHI_ANOMALIES__LOSS_STREAK__MAX_PROBABILITY", "2")
    code, _, err = cli(capsys, "config", "validate")
    assert code == 2
    [line] = [ln for ln in err.splitlines() if "max_probability" in ln]
    assert "probability under the baseline loss rate, loss_rate ** streak_length" in line
    assert "portfolio" not in line
