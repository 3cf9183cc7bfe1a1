"""`orchestra config check [PATH]`: validate a repo's `.github/orchestra.yml`; show each value and its source."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from bot.cli.helptext import MODELS, add_command, log_vars
from bot.doctor import redact_url
from bot.errors import ConfigError, Source
from bot.llm.factory import resolve_spec
from bot.repoconfig import CONFIG_PATH, RepoConfig, load_repo_config
from bot.settings import SPEND_CAP_ENV, Role, Settings

#: Settings shown by `config check` (secrets only as set / unset).
SHOWN_SETTINGS = (
    "api_url",
    "server_url",
    "redis_url",
    "bot_login",
    "state_dir",
    "log_level",
    "task_budget.max_steps",
    "task_budget.max_tokens",
    "task_budget.max_usd",
    "task_budget.max_wall_s",
)
SECRET_SETTINGS = ("app_id", "private_key", "webhook_secret", "token")


def register(sub: argparse._SubParsersAction) -> None:
    config = sub.add_parser(
        "config",
        help="inspect orchestra configuration",
        description="Inspect the orchestra's configuration (docs/configuration.md).",
    )
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = add_command(
        config_sub,
        "check",
        summary="validate a .github/orchestra.yml and show every effective value and its source",
        description="Validate a .github/orchestra.yml (one `PATH:key: message` line per problem, exit 2) and "
        "print the effective configuration: each value with where it came from — a command-line "
        "flag, an environment variable (by name), the file, or the default. --model, "
        "--planner-model and --merge show what `orchestra run` with those flags would use.",
        variables=(
            *MODELS,
            (
                "ORCHESTRA_API_URL, ORCHESTRA_REDIS_URL, ORCHESTRA_STATE_DIR, …",
                "every setting of docs/configuration.md",
            ),
            *log_vars("human"),
        ),
        note="Precedence, highest first: flag, environment variable, .github/orchestra.yml on the default "
        "branch, default. Budgets are ceilings: the lower of the environment's and the file's applies.",
    )
    check.add_argument(
        "path",
        type=Path,
        nargs="?",
        help=f"the YAML file (default {CONFIG_PATH} in this directory, defaults when absent)",
    )
    check.add_argument("--model", help="as `orchestra run --model`: a spec for every role")
    check.add_argument("--planner-model", help="as `orchestra run --planner-model`")
    check.add_argument("--merge", choices=["auto", "review"], help="as `orchestra run --merge`")
    check.add_argument("--json", action="store_true", help="one JSON object: config, models, sources, settings")
    check.set_defaults(func=check_config)


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(data, dict) or not data:
        return {prefix: data} if prefix else {}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        flat |= _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    return flat


def _file_keys(path: Path | None) -> set[str]:
    """The dotted keys the file sets (a key whose value is a mapping sets the leaves it names)."""
    if path is None:
        return set()
    data = yaml.safe_load(path.read_text()) or {}
    return set(_flatten(data)) if isinstance(data, dict) else set()


def _load(path: Path | None) -> tuple[RepoConfig, Path | None]:
    if path is not None:
        return load_repo_config(path), path
    default = Path(CONFIG_PATH)
    return (load_repo_config(default), default) if default.is_file() else (RepoConfig(), None)


def _source(kind: str, name: str) -> str:
    return Source(kind, name).describe() if kind != "file" else name


def effective(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    """Every effective value and where it came from."""
    config, path = _load(args.path)
    if args.merge:
        config = config.model_copy(update={"merge": config.merge.model_copy(update={"policy": args.merge})})
    file_keys = _file_keys(path)
    settings = Settings.from_env(env)
    settings = settings.model_copy(update={"models": settings.models.with_flags(args.model, args.planner_model)})
    config = config.with_caps(settings.spend_caps)  # ORCHESTRA_BUDGET_* over budgets.goal / budgets.day
    models = {}
    for role in Role:
        resolved = resolve_spec(role, settings, config)
        where = (
            f"{path} (models.{role.value})"
            if resolved.source.kind == "file"
            else _source(resolved.source.kind, resolved.source.name)
        )
        models[role.value] = {"spec": resolved.spec, "from": where}
    values = _flatten(config.model_dump(mode="json", exclude={"models"}))
    sources = {key: (f"{path}" if key in file_keys else "default") for key in values}
    if args.merge:
        sources["merge.policy"] = "command-line option --merge"
    for cap, variable in SPEND_CAP_ENV.items():
        if variable in settings.origins.values():
            scope, unit = cap.split("_")
            sources[f"budgets.{scope}.{unit}"] = f"environment variable {variable}"
    shown = _flatten(settings.model_dump(mode="json", include={f.split(".")[0] for f in SHOWN_SETTINGS}))
    shown["redis_url"] = redact_url(settings.redis_url)  # never its password
    settings_out = {key: {"value": shown.get(key), "from": _setting_source(settings, key)} for key in SHOWN_SETTINGS}
    for key in SECRET_SETTINGS:
        settings_out[key] = {
            "value": "set" if getattr(settings, key) else "unset",
            "from": _setting_source(settings, key),
        }
    return {"config": config.model_dump(mode="json"), "models": models, "sources": sources, "settings": settings_out}


def _setting_source(settings: Settings, key: str) -> str:
    name = settings.origins.get(key)
    return f"environment variable {name}" if name else "default"


def _table(report: dict[str, Any]) -> str:
    rows = [(f"models.{role}", entry["spec"], entry["from"]) for role, entry in report["models"].items()]
    config_values = _flatten({k: v for k, v in report["config"].items() if k != "models"})
    rows += [(key, json.dumps(config_values[key]), src) for key, src in report["sources"].items()]
    rows += [(f"settings.{key}", str(entry["value"]), entry["from"]) for key, entry in report["settings"].items()]
    width = max(len(row[0]) for row in rows)
    value_width = min(48, max(len(row[1]) for row in rows))
    lines = [f"{'key':<{width}}  {'value':<{value_width}}  from"]
    lines += [f"{key:<{width}}  {value:<{value_width}}  {src}" for key, value, src in rows]
    return "\n".join(lines)


def check_config(args: argparse.Namespace) -> int:
    try:
        report = effective(args, dict(os.environ))
    except ConfigError as exc:
        # One line per problem, `PATH:key: message`, and exit 2 so scripts can tell.
        print(exc, file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2) if args.json else _table(report))
    return 0
