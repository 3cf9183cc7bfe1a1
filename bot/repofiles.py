"""What the orchestra reads from a repository's default branch: its config, prompt overrides and notes.

`.github/orchestra.yml` (the `RepoConfig`), `.github/orchestra/prompts/<role>.md` (a role's
prompt replaced) and the notes file the config names (a short field guide every agent reads).
"""

from __future__ import annotations

from bot.errors import ConfigError
from bot.forge.client import Forge
from bot.forge.limits import FileTooLarge
from bot.prompting import OVERRIDE_DIR
from bot.repoconfig import CONFIG_PATH, MAX_CONFIG_BYTES, RepoConfig, parse_repo_config

#: Longer notes are cut (with a note saying so): the file is meant to stay a short field guide.
MAX_NOTES_CHARS = 12_000
#: The largest prompt override or notes file read (bytes); larger ones are a ConfigError naming the file.
MAX_TEXT_FILE_BYTES = 256 * 1024


def _read_bounded(forge: Forge, path: str, max_bytes: int) -> str | None:
    """A file's text, or ConfigError (one line, naming the file) when it is over `max_bytes`."""
    try:
        return forge.read_file(path, max_bytes=max_bytes)
    except FileTooLarge as exc:
        raise ConfigError(f"{path}: {exc.size:,} bytes; the orchestra reads at most {max_bytes:,} bytes of it") from exc


def read_config(forge: Forge) -> RepoConfig:
    """`.github/orchestra.yml` from the default branch; defaults when absent; ConfigError when invalid or too large."""
    text = _read_bounded(forge, CONFIG_PATH, MAX_CONFIG_BYTES)
    return RepoConfig() if text is None else parse_repo_config(text, CONFIG_PATH)


def read_prompt_overrides(forge: Forge) -> dict[str, str]:
    """Role name → prompt text from `.github/orchestra/prompts/*.md` on the default branch."""
    found: dict[str, str] = {}
    for path in forge.list_dir(OVERRIDE_DIR):
        name = path.rsplit("/", 1)[-1]
        if path == f"{OVERRIDE_DIR}/{name}" and name.endswith(".md"):  # only files directly in the directory
            text = _read_bounded(forge, path, MAX_TEXT_FILE_BYTES)
            if text is not None:
                found[name.removesuffix(".md")] = text
    return found


def read_notes(forge: Forge, config: RepoConfig) -> str:
    """The notes file's text on the default branch ("" when absent), cut to `MAX_NOTES_CHARS`."""
    text = _read_bounded(forge, config.notes_file, MAX_TEXT_FILE_BYTES) or ""
    if len(text) > MAX_NOTES_CHARS:
        text = text[:MAX_NOTES_CHARS] + f"\n\n(notes cut at {MAX_NOTES_CHARS} characters; the file is longer)"
    return text
