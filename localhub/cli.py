"""`orchestra localhub serve|import` (also `python -m localhub`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from localhub.auth import AppConfig
from localhub.gitrepo import GitFailed
from localhub.repos import RepoExists
from localhub.server import HubConfig, LocalHub


def register(sub: argparse._SubParsersAction) -> None:
    """Add `localhub serve|import` to the `orchestra` command line."""
    add_actions(
        sub.add_parser(
            "localhub",
            help="a GitHub-compatible forge on this machine",
            description="localhub: a GitHub-compatible forge on this machine — REST under /api/v3, git over HTTP, "
            "signed webhooks, local CI and read-only pages (docs/localhub.md). It reads no environment "
            "variables: everything is an option.",
        )
    )


def add_actions(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="localhub_command", metavar="ACTION", required=True)
    serve = actions.add_parser(
        "serve",
        help="serve the REST API, git over HTTP and webhooks",
        description="Serve localhub from a state directory until interrupted: the REST API under /api/v3, git "
        "over HTTP, webhooks to --webhook-url, CI on every push, and the pages (e.g. "
        "/OWNER/NAME/issues?state=all). Serving a local run's <state>/localhub shows its state again.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to bind; 0 picks a free one (default 8080)")
    serve.add_argument("--state", type=Path, required=True, help="state directory (SQLite file and bare repos)")
    serve.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="NAME:TOKEN",
        help="a user and their personal token (repeatable; default: none)",
    )
    serve.add_argument("--app-id", type=int, help="App mode: the App's id (JWT `iss`; default: no App)")
    serve.add_argument("--app-public-key", type=Path, help="App mode: PEM public key checking the App's JWTs")
    serve.add_argument(
        "--app-slug", default="orchestra", help="App mode: the App's slug (bot is SLUG[bot]; default orchestra)"
    )
    serve.add_argument("--webhook-url", help="the App webhook URL every event is delivered to (default: none)")
    serve.add_argument("--webhook-secret", help="secret signing deliveries to --webhook-url (default: unsigned)")
    serve.add_argument("--fault-rate", type=float, default=0.0, help="share of API calls answered 502/403 (default 0)")
    serve.add_argument("--fault-seed", type=int, default=0, help="seed of the injected faults (default 0)")
    serve.add_argument(
        "--fault-after-share",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="of the injected faults, the share that hit a write after applying it (answered 502; default 0)",
    )
    serve.add_argument("--latency-ms", type=int, default=0, help="added to every API call (default 0)")
    serve.add_argument("--rate-limit", type=int, default=5000, help="requests per hour per token (default 5000)")
    serve.set_defaults(func=serve_command)
    imp = actions.add_parser(
        "import",
        help="create a repository from a local git repository",
        description="Create OWNER/NAME in the state directory from a local git repository (every branch and "
        "tag; its checked-out branch becomes the default branch). localhub need not be running.",
    )
    imp.add_argument("path", type=Path, help="the local git repository")
    imp.add_argument("--repo", required=True, metavar="OWNER/NAME", help="the repository to create")
    imp.add_argument("--ci", help="the repository's CI command (default: none)")
    imp.add_argument("--state", type=Path, required=True, help="the state directory of the localhub to import into")
    imp.set_defaults(func=import_command)


def _users(pairs: list[str]) -> dict[str, str]:
    users = {}
    for pair in pairs:
        name, sep, token = pair.partition(":")
        if not sep or not name or not token:
            raise SystemExit(f"localhub: --user expects NAME:TOKEN, got {pair!r}")
        users[name] = token
    return users


def config_from_args(args: argparse.Namespace) -> HubConfig:
    if not 0.0 <= args.fault_after_share <= 1.0:
        raise SystemExit(f"localhub: --fault-after-share expects a share between 0 and 1, got {args.fault_after_share}")
    app = None
    if args.app_id is not None:
        if args.app_public_key is None:
            raise SystemExit("localhub: --app-id needs --app-public-key FILE")
        app = AppConfig(args.app_id, args.app_public_key.read_text(), args.app_slug)
    return HubConfig(
        state_dir=args.state,
        host=args.host,
        port=args.port,
        users=_users(args.user),
        app=app,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        fault_rate=args.fault_rate,
        fault_seed=args.fault_seed,
        fault_after_share=args.fault_after_share,
        latency_ms=args.latency_ms,
        rate_limit=args.rate_limit,
    )


def serve_command(args: argparse.Namespace) -> int:
    hub = LocalHub(config_from_args(args))

    def ready(hub: LocalHub) -> None:
        print(
            f"localhub: serving {hub.url} (REST at {hub.api_url}), state in {args.state}", file=sys.stderr, flush=True
        )
        hub.announce_installation()

    try:
        hub.serve_forever(ready)
    except KeyboardInterrupt:
        pass
    finally:
        hub.stop()
    return 0


def import_command(args: argparse.Namespace) -> int:
    owner, sep, name = args.repo.partition("/")
    if not sep or not owner or not name:
        print(f"localhub: --repo expects OWNER/NAME, got {args.repo!r}", file=sys.stderr)
        return 2
    hub = LocalHub(HubConfig(state_dir=args.state))
    try:
        repo = hub.import_repo(args.path, args.repo, args.ci)
    except (RepoExists, GitFailed) as exc:
        print(f"localhub: cannot import {args.path} as {args.repo}: {exc}", file=sys.stderr)
        return 2
    finally:
        hub.stop()
    print(f"imported {args.path} as {args.repo} (default branch {repo['default_branch']})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localhub", description="a GitHub-compatible forge")
    add_actions(parser)
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)
