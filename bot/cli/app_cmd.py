"""`orchestra app create`: register the GitHub App from `app.yml` by GitHub's manifest flow (docs/deploy.md)."""

from __future__ import annotations

import argparse
import os
import sys
import webbrowser
from collections.abc import Mapping
from pathlib import Path

from bot.cli.helptext import add_command
from bot.modes.appsetup import ENV_FILE, GITHUB, KEY_FILE, WAIT_S, AppRequest, create_app, report


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser(
        "app",
        help="the GitHub App: `orchestra app create` registers it from app.yml",
        description="Commands for the GitHub App the server mode runs as (docs/deploy.md).",
    )
    app_sub = group.add_subparsers(dest="app_command", metavar="ACTION", required=True)
    create = add_command(
        app_sub,
        "create",
        summary="create the GitHub App from app.yml and write .env and its key file",
        description="Register the GitHub App by GitHub's manifest flow. A page served on 127.0.0.1 (a free port; "
        "opened in your browser, and printed) posts app.yml, with the webhook URL you give, to "
        "SERVER/settings/apps/new (with --org, the organization's). You sign in there and confirm; "
        "the forge sends you back to the page with a one-time code (checked against a random state), "
        "which this command trades for the App's id, slug, private key and webhook secret "
        "at API/app-manifests/CODE/conversions. It then checks that the key works (GET API/app).\n"
        "\n"
        "It writes two files, each mode 0600: the private key (--key-file) and the settings "
        "(--env-file): ORCHESTRA_APP_ID, ORCHESTRA_WEBHOOK_SECRET, "
        "ORCHESTRA_PRIVATE_KEY_PATH (the key file, relative to .env's folder), ORCHESTRA_BOT_LOGIN "
        "(SLUG[bot]), ORCHESTRA_API_URL and ORCHESTRA_SERVER_URL (when not github.com) and, when "
        ".env has none, ORCHESTRA_REDIS_PASSWORD (random). The key itself never goes into .env. "
        "Existing files are refused before anything is created, unless --force. Nothing secret is "
        "printed. Exits 0 when the files were written, 2 otherwise.",
        variables=(
            ("ORCHESTRA_SERVER_URL", f"the forge's web root when --server is not given (default {GITHUB})"),
            ("ORCHESTRA_API_URL", "its REST root when neither --api-url nor --server is given"),
            ("BROWSER", "the browser to open the page in (Python's webbrowser module)"),
            (
                "DISPLAY, WAYLAND_DISPLAY",
                "a display to open a browser on (without one and without BROWSER, the address is only printed)",
            ),
        ),
        note="Then: install the App (the command prints its link), fill in the models in .env, and run "
        "`docker compose up -d` (docs/deploy.md).",
    )
    create.add_argument(
        "--server",
        default=None,
        metavar="URL",
        help=f"the forge's web root: GitHub, a GitHub Enterprise Server or localhub "
        f"(default: ORCHESTRA_SERVER_URL, else {GITHUB})",
    )
    create.add_argument(
        "--api-url",
        default=None,
        metavar="URL",
        help="its REST root (default: ORCHESTRA_API_URL, else https://api.github.com for "
        "github.com and SERVER/api/v3 otherwise)",
    )
    create.add_argument("--org", metavar="ORG", help="create the App for this organization (default: your account)")
    create.add_argument(
        "--webhook-url",
        metavar="URL",
        help="where the forge sends events: https://YOUR-HOST/webhook (default: app.yml's "
        "hook_attributes.url, which must not be the example.com placeholder)",
    )
    create.add_argument("--name", help="the App's name, unique on the forge (default: app.yml's name)")
    create.add_argument(
        "--manifest",
        type=Path,
        default=Path("app.yml"),
        metavar="PATH",
        help="the App's manifest (default: app.yml in the current folder)",
    )
    create.add_argument(
        "--env-file",
        type=Path,
        default=ENV_FILE,
        metavar="PATH",
        help=f"the settings file to write (default: {ENV_FILE})",
    )
    create.add_argument(
        "--key-file",
        type=Path,
        default=KEY_FILE,
        metavar="PATH",
        help=f"the private key's file, where docker-compose.yml looks (default: {KEY_FILE})",
    )
    create.add_argument(
        "--force",
        action="store_true",
        help="replace the App's lines in an existing .env (keeping its other lines) and an "
        "existing key file (default: refuse)",
    )
    create.add_argument(
        "--port",
        type=int,
        default=0,
        help="the local page's port on 127.0.0.1, e.g. to forward it over SSH (default: a free one)",
    )
    create.add_argument(
        "--no-browser",
        action="store_true",
        help="only print the page's address, do not open a browser (default: open it when "
        "this session has a display, or BROWSER is set)",
    )
    create.add_argument(
        "--timeout",
        type=float,
        default=WAIT_S,
        metavar="SECONDS",
        help=f"how long to wait for the App to be created (default: {WAIT_S:g})",
    )
    create.set_defaults(func=app_create_command)


def graphical(env: Mapping[str, str] | None = None, platform: str = sys.platform) -> bool:
    """True when opening a browser shows a window: a display, macOS, Windows, or an explicit BROWSER.
    Elsewhere Python's webbrowser would run a text browser in this very terminal (lynx, w3m)."""
    env = os.environ if env is None else env
    return bool(env.get("BROWSER") or env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")) or platform in (
        "darwin",
        "win32",
    )


def app_create_command(args: argparse.Namespace) -> int:
    # The environment names the forge only when --server does not: its API URL belongs to its server.
    server = args.server or os.environ.get("ORCHESTRA_SERVER_URL") or GITHUB
    api_url = args.api_url or (None if args.server else os.environ.get("ORCHESTRA_API_URL")) or None
    request = AppRequest(
        manifest_path=args.manifest,
        server_url=server,
        api_url=api_url,
        org=args.org,
        webhook_url=args.webhook_url,
        name=args.name,
        env_file=args.env_file,
        key_file=args.key_file,
        force=args.force,
        port=args.port,
        wait_s=args.timeout,
    )
    opener = None if args.no_browser or not graphical() else webbrowser.open
    if opener is None and not args.no_browser:
        print(
            "(No browser opened: this session has no display. Open the address in a browser on this machine, "
            "or forward the port: ssh -L PORT:127.0.0.1:PORT with --port PORT.)"
        )
    result = create_app(request, sys.stdout, opener)
    print(report(result))
    return 0
