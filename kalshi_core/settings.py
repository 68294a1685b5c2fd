"""The one settings object: Dynaconf layers, plugin-contributed defaults and rules.

Layers, lowest first: plugin defaults (``register_settings``) -> ``[default]`` of the packaged
``settings.toml`` -> the section named by ``KALSHI_ENV`` -> the user's file (``--settings`` or
``KALSHI_SETTINGS_FILE``) -> ``.secrets.toml`` -> ``KALSHI_*`` environment variables.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, TypeAlias

import attrs
from dynaconf import Dynaconf
from dynaconf.utils.inspect import get_history

from kalshi_core.errors import ConfigError
from kalshi_core.settings_files import check_settings_file
from kalshi_core.settings_lists import list_keys, replace_lists
from kalshi_core.settings_rules import Rule

ENV_PREFIX = "KALSHI"
ENVIRONMENTS = ("development", "staging", "production")
DEFAULT_ENVIRONMENT = "development"
# the top-level tables a settings file may have: [default] applies in every environment
SECTIONS = ("default", *ENVIRONMENTS)
SETTINGS_FILE_VAR = "KALSHI_SETTINGS_FILE"
SECRETS_FILE_NAME = ".secrets.toml"
MASK = "********"
# Dynaconf ships no type information; this alias documents intent at every use.
Settings: TypeAlias = Any


def packaged_settings_path() -> Path:
    """The embedded defaults: ``kalshi_core/config/settings.toml`` in a wheel, else the repo's."""
    packaged = resources.files("kalshi_core").joinpath("config/settings.toml")
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "config" / "settings.toml"


def user_settings_path(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The user's own file: ``--settings`` wins over ``KALSHI_SETTINGS_FILE``.

    Made absolute against the working directory once, here: Dynaconf searches a relative
    name in its own places first (the packaged ``config/`` directory among them), so a
    relative ``settings.toml`` would otherwise load the embedded defaults instead.
    """
    chosen = explicit or os.environ.get(SETTINGS_FILE_VAR) or None
    return Path(chosen).expanduser().resolve() if chosen else None


def secrets_paths(user_file: Path | None) -> list[Path]:
    """``.secrets.toml`` next to the user's file, then in the working directory."""
    candidates = [user_file.parent / SECRETS_FILE_NAME] if user_file else []
    candidates.append(Path.cwd() / SECRETS_FILE_NAME)
    return list(dict.fromkeys(p.resolve() for p in candidates))


@attrs.frozen
class Contributions:
    """What plugins added through ``register_settings``: defaults and rules."""

    defaults: dict[str, Any] = attrs.field(factory=dict)
    rules: tuple[Rule, ...] = ()


def _deep_merge(into: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        else:
            into[key] = dict(value) if isinstance(value, Mapping) else value


def _nest(section: str, values: Mapping[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = dict(values)
    for part in reversed(section.split(".")):
        nested = {part: nested}
    return nested


def collect_contributions(
    hook_results: Iterable[tuple[str, Mapping[str, Any], Iterable[Rule]]],
) -> Contributions:
    """Fold ``(section, defaults, rules)`` registrations into one :class:`Contributions`."""
    defaults: dict[str, Any] = {}
    rules: list[Rule] = []
    for section, section_defaults, section_rules in hook_results:
        _deep_merge(defaults, _nest(section, section_defaults))
        rules.extend(section_rules)
    return Contributions(defaults=defaults, rules=tuple(rules))


def _check_environment(env: str | None) -> str:
    chosen = env or os.environ.get(f"{ENV_PREFIX}_ENV") or DEFAULT_ENVIRONMENT
    if chosen not in ENVIRONMENTS:
        raise ConfigError(
            f"environment {chosen!r} (from --env or KALSHI_ENV) is not one of "
            f"{', '.join(ENVIRONMENTS)}"
        )
    return chosen


def load_settings(
    *,
    settings_file: str | os.PathLike[str] | None = None,
    env: str | None = None,
    contributions: Contributions | None = None,
) -> Settings:
    """Build the layered settings object. Does not validate: see :func:`validate_settings`."""
    environment = _check_environment(env)
    user_file = _checked_user_file(settings_file)
    files = [str(packaged_settings_path())]
    files += [str(user_file)] if user_file else []
    for secrets in (p for p in secrets_paths(user_file) if p.is_file()):
        check_settings_file(secrets, SECTIONS)
        files.append(str(secrets))
    upper_defaults = {k.upper(): v for k, v in (contributions or Contributions()).defaults.items()}
    settings = Dynaconf(
        envvar_prefix=ENV_PREFIX,
        settings_files=files,
        environments=True,
        env=environment,
        env_switcher=f"{ENV_PREFIX}_ENV",
        merge_enabled=True,
        core_loaders=["TOML"],
        **upper_defaults,
    )
    settings.as_dict()  # load every layer now (Dynaconf is lazy) so the fix-up comes last
    lists = _default_list_keys(contributions or Contributions())
    replace_lists(settings, [Path(f) for f in files], environment, ENV_PREFIX, lists)
    return settings


def _checked_user_file(settings_file: str | os.PathLike[str] | None) -> Path | None:
    """The user's file, refused unless it is a readable TOML file of environment sections."""
    user_file = user_settings_path(settings_file)
    if user_file is None:
        return None
    origin = f"(from --settings or {SETTINGS_FILE_VAR})"
    if user_file.is_dir():
        raise ConfigError(f"settings file {user_file} {origin} is a directory, not a file")
    if not user_file.is_file():
        raise ConfigError(f"settings file {user_file} {origin} does not exist")
    check_settings_file(user_file, SECTIONS)
    return user_file


def _default_list_keys(contributions: Contributions) -> set[str]:
    """Keys whose default (embedded or a plugin's) is a list."""
    embedded = tomllib.loads(packaged_settings_path().read_text(encoding="utf-8"))
    return list_keys(embedded.get("default", {})) | list_keys(contributions.defaults)


_MISSING = object()


def lookup(settings: Settings, key: str) -> Any:
    """The value at dotted ``key``, or ``None`` when absent."""
    value = settings.get(key, default=_MISSING)
    return None if value is _MISSING else value


def layer_of(settings: Settings, key: str) -> str:
    """Human name of the layer that last changed ``key`` (for error messages)."""
    history = get_history(settings, key=key)
    final = lookup(settings, key)
    source = None
    for entry in history:
        if not _same(entry.get("value"), final):
            source = None
        elif source is None:
            source = entry
    return _describe_layer(source, key)


def _same(left: Any, right: Any) -> bool:
    """Equality where nan equals nan (a nan setting must still name its layer)."""
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left):
        return math.isnan(right)
    return bool(left == right)


def _describe_layer(entry: Mapping[str, Any] | None, key: str) -> str:
    if entry is None:
        return "built-in default"
    loader, identifier = entry.get("loader", ""), str(entry.get("identifier", ""))
    if loader.startswith("env"):
        return f"environment variable {ENV_PREFIX}_{key.upper().replace('.', '__')}"
    if identifier == "init_kwargs":
        return "a plugin's defaults"
    if loader == "set_method":  # set in code under a name of its own: --set, --strategy
        return identifier
    section = entry.get("env", "default")
    label = "[default]" if section in ("default", "global") else f"[{section}]"
    return f"{label} in {identifier}"


@attrs.frozen
class Problem:
    """One bad settings value, worded for a human."""

    key: str
    value: Any
    what: str
    allowed: str
    layer: str
    secret: bool = False

    def __str__(self) -> str:
        shown = MASK if self.secret else repr(mask_secrets(self.value))
        return f"{self.key} = {shown} {self.what}: allowed is {self.allowed} (set by {self.layer})"


def validate_settings(settings: Settings, rules: Iterable[Rule]) -> list[Problem]:
    """Check every rule; returns the problems found (empty list when all is well)."""
    problems = []
    for rule in rules:
        value = lookup(settings, rule.key)
        what = rule.problem(value)
        if what is not None:
            layer = layer_of(settings, rule.key)
            problems.append(Problem(rule.key, value, what, rule.allowed(), layer, rule.secret))
    return problems


def as_plain_dict(settings: Settings, rules: Iterable[Rule]) -> dict[str, Any]:
    """All settings as a lower-cased nested dict with secret values masked at any depth: the
    secret rules' keys, and inside any table or list every entry named like a secret
    (a rule's secret name such as ``api_key``, or :data:`SECRET_NAME`)."""
    data: dict[str, Any] = _lower_keys(settings.as_dict())
    data.pop("env", None)
    secret_rules = [rule for rule in rules if rule.secret]
    for rule in secret_rules:
        _mask(data, rule.key.split("."))
    names = frozenset(rule.key.rsplit(".", 1)[-1] for rule in secret_rules)
    masked: dict[str, Any] = mask_secrets(data, names)
    return masked


# api_key, private_key, client_secret, password, token... but not api_key_id or *_path.
SECRET_NAME = re.compile(r"(^|_)(api_key|private_key|secret|password|passphrase|token)$")


def is_secret_name(name: str, names: frozenset[str] = frozenset()) -> bool:
    lowered = name.lower()
    return lowered in names or SECRET_NAME.search(lowered) is not None


def mask_secrets(value: Any, names: frozenset[str] = frozenset()) -> Any:
    """A copy of ``value`` with every non-empty entry named like a secret masked."""
    if isinstance(value, Mapping):
        return {
            key: MASK if is_secret_name(str(key), names) and item else mask_secrets(item, names)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_secrets(item, names) for item in value]
    return value


def _lower_keys(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k).lower(): _lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower_keys(v) for v in value]
    return value


def _mask(data: dict[str, Any], path: list[str]) -> None:
    node: Any = data
    for part in path[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict) and node.get(path[-1]):
        node[path[-1]] = MASK
