"""The forge factory of the modes that act with one token (the Action's, local mode's workers): `Settings` → Forge."""

from __future__ import annotations

from collections.abc import Callable

from github import Auth

from bot.forge.client import Forge
from bot.forge.retry import RetryPolicy
from bot.settings import Settings

#: repo, installation id (unused with a plain token) → its Forge; the shape `Runtime.forge_factory` takes.
TokenForges = Callable[..., Forge]


def token_forges(settings: Settings, policy: RetryPolicy | None = None) -> TokenForges:
    """Forges for any repository, authenticated with `settings.token` at `settings.api_url`."""
    token = settings.token.get_secret_value() if settings.token else ""

    def forge(repo: str, installation_id: int | None = None) -> Forge:
        return Forge(
            repo,
            Auth.Token(token),
            api_url=settings.api_url,
            server_url=settings.server_url,
            bot_login=settings.bot_login,
            policy=policy,
        )

    return forge
