"""The VK gateway: one ``VkClient`` per token for the whole process.

VK counts requests per token, so every call made with one token goes through one client: one
rate limiter in the process, and the shared pacer (``SharedState.pace``, Redis across replicas).
``Advisor.open`` builds the gateway; the public check, the audit and the tracker's post figures
get its ``reader`` client, the VK bot its ``community`` client (which also reads the check's
big samples when the reader is a service token: ``sampler``); ``Advisor.close`` closes them.

The clients are built on first use, so a process that never calls VK never imports vkbottle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import SecretStr

from advisor.config import Settings

if TYPE_CHECKING:
    from advisor.vk.api import Pacer, TokenKind, VkClient


def reader_kind(settings: Settings) -> TokenKind | None:
    """The kind of ``settings.vk_check_token``, the token that reads communities and walls."""
    token = settings.vk_check_token
    if token is None:
        return None
    return "user" if token is settings.vk_user_token else "service"


class VkGateway:
    """The process's VK clients, one per token. Use as an async context manager, or ``close()``."""

    def __init__(self, settings: Settings, pacer: Pacer | None = None) -> None:
        self.settings = settings
        self._pacer = pacer
        self._clients: dict[str, VkClient] = {}
        self._closed = False

    def client(self, token: SecretStr, kind: TokenKind) -> VkClient:
        """The one client of ``token`` (built on the first call)."""
        if self._closed:
            raise RuntimeError("the VK gateway is closed")
        key = token.get_secret_value()
        client = self._clients.get(key)
        if client is None:
            # Imported here: vkbottle takes a second to import, and only VK features need it.
            from advisor.vk.api import VkClient

            client = VkClient(self.settings, token, kind, self._pacer)
            self._clients[key] = client
        return client

    @property
    def reader(self) -> VkClient | None:
        """The client of the token that reads communities and walls (public check, audit,
        tracker): ``settings.vk_check_token``; None when neither VK_USER_TOKEN nor
        VK_SERVICE_TOKEN is set."""
        token, kind = self.settings.vk_check_token, reader_kind(self.settings)
        if token is None or kind is None:
            return None
        return self.client(token, kind)

    @property
    def community(self) -> VkClient | None:
        """The client of the community token (VK_GROUP_TOKEN) the VK bot speaks with."""
        token = self.settings.vk_group_token
        if token is None or not token.get_secret_value():
            return None
        return self.client(token, "group")

    @property
    def sampler(self) -> VkClient | None:
        """The client that reads big publics' member samples in the public check when the
        reader cannot: the community token's (``execute``, 25 calls a request, 20 requests a
        second) when the reader is a service token (no ``execute``, 5 requests a second). None
        with a user token (its own executes do it) or without a community token. The client
        is the VK bot's: the one limiter keeps both within VK's rate for the token."""
        if reader_kind(self.settings) != "service":
            return None
        return self.community

    async def close(self) -> None:
        self._closed = True
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.close()

    async def __aenter__(self) -> VkGateway:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
