"""localhub's own endpoints under `/_localhub/` (not GitHub's): metrics."""

from __future__ import annotations

from flask import Blueprint, Response

from localhub.rest import hub, json_response

bp = Blueprint("internal", __name__)


@bp.get("/_localhub/metrics")
def metrics() -> Response:
    return json_response(hub().metrics.snapshot())
