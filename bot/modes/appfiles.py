"""The App's settings and key on disk: `.env` lines merged in place and a key file, both mode 0600 from
the first byte; existing files refused unless forced (`orchestra app create`)."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from bot.errors import ConfigError

#: A value `.env` holds as is for compose, `docker run --env-file` and `set -a; . ./.env` alike.
_PLAIN_VALUE = re.compile(r"^[A-Za-z0-9_./:@+=\[\]-]*$")
REDIS_PASSWORD = "ORCHESTRA_REDIS_PASSWORD"

ENV_HEADER = """\
# Settings of the docker-compose deployment, written by `orchestra app create` (docs/deploy.md; all
# settings: docs/configuration.md). Keep this file secret: it is in .gitignore, never commit it.
# The App's private key is not here: ORCHESTRA_PRIVATE_KEY_PATH names its file.
"""
ENV_MODELS = """\

# Models per role (docs/models.md) and their keys: fill in before `docker compose up -d`.
# ORCHESTRA_MODEL=openai:gpt-5.2
# ORCHESTRA_MODEL_PLANNER=anthropic:claude-sonnet-4-5
# OPENAI_API_KEY=
# ANTHROPIC_API_KEY=
"""


def refuse_existing(env_file: Path, key_file: Path, force: bool) -> None:
    """Raise when a file would be overwritten without `force`."""
    if force:
        return
    for path, what in ((env_file, "settings"), (key_file, "key")):
        if path.exists():
            raise ConfigError(
                f"{path} exists: pass --force to replace the App's {what} in it "
                "(other lines of .env are kept), or choose another path"
            )


def path_setting(key_file: Path, env_file: Path) -> str:
    """The key's path as `.env` says it: relative to `.env`'s folder when the key lies under it."""
    key, folder = key_file.resolve(), env_file.resolve().parent
    return str(key.relative_to(folder)) if key.is_relative_to(folder) else str(key)


def check_values(settings: dict[str, str]) -> None:
    """Every value must be writable unquoted (`docker run --env-file` keeps quotes as part of the value)."""
    for key, value in settings.items():
        if not _PLAIN_VALUE.match(value):
            raise ConfigError(
                f"{key} would be {value!r}, which .env cannot hold unquoted; choose a path without spaces or quotes"
            )


def merged_env(existing: str | None, settings: dict[str, str]) -> tuple[str, list[str]]:
    """`.env`'s text with `settings` set, and the keys set: their lines replaced in place, missing ones
    added, every other line kept; a Redis password (compose requires one) is added when there is none,
    and a new file gets the model lines to fill in."""
    values = dict(settings)
    old = (existing or "").splitlines()
    if not any(env_key(line) == REDIS_PASSWORD for line in old):
        values[REDIS_PASSWORD] = secrets.token_hex(32)
    lines: list[str] = []
    for line in old:
        key = env_key(line)
        if key not in values:
            lines.append(line)
        elif key not in {env_key(kept) for kept in lines}:
            lines.append(f"{key}={values[key]}")
    lines += [f"{key}={value}" for key, value in values.items() if key not in {env_key(kept) for kept in lines}]
    text = "\n".join(lines) + "\n"
    return (text if existing is not None else ENV_HEADER + text + ENV_MODELS), list(values)


def env_key(line: str) -> str | None:
    """The variable a `.env` line sets (`KEY=value`, `export KEY=value`), None for comments and blanks."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#") or "=" not in stripped:
        return None
    return stripped.partition("=")[0].removeprefix("export ").strip()


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` with mode 0600 from the first byte, replacing the file in one step
    (a new folder is made 0700)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_settings(env_file: Path, key_file: Path, pem: str, settings: dict[str, str]) -> list[str]:
    """The key file, then `.env`; returns the `.env` keys set (with the Redis password when one was added)."""
    check_values(settings)
    write_private(key_file, pem if pem.endswith("\n") else pem + "\n")
    existing = env_file.read_text(encoding="utf-8") if env_file.exists() else None
    text, keys = merged_env(existing, settings)
    write_private(env_file, text)
    return keys
