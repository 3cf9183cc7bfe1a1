"""The run's transcript: one JSON line per message, tool result and event, written as the run goes."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel


class Transcript:
    """Appends JSON lines to `path` (nothing at all when `path` is None); flushes each line."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._file: TextIO | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("a", encoding="utf-8")

    def write(self, kind: str, step: int, payload: BaseModel | dict[str, Any]) -> None:
        if self._file is None:
            return
        body = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
        line = {"t": round(time.time(), 3), "step": step, "kind": kind, **body}
        self._file.write(json.dumps(line, ensure_ascii=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def read_transcript(path: Path) -> list[dict[str, Any]]:
    """Every line of a transcript, parsed."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
