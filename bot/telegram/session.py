"""The aiogram Bot: the configured Bot API server, HTML by default, 429 answers waited out."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import (
    AnswerCallbackQuery,
    DeleteWebhook,
    EditMessageText,
    GetMe,
    GetUpdates,
    Response,
    SendChatAction,
    SendDocument,
    SendMessage,
    SendPhoto,
    SetMyCommands,
    SetWebhook,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from advisor.config import Settings

log = logging.getLogger(__name__)


class RetryAfterMiddleware(BaseRequestMiddleware):
    """On 429 waits the ``retry_after`` Telegram names, then repeats the same request."""

    def __init__(self, attempts: int = 5, longest_wait: float = 60.0) -> None:
        self.attempts = attempts
        self.longest_wait = longest_wait

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        seconds = float(error.retry_after) if isinstance(error, TelegramRetryAfter) else 1.0
        return min(seconds, self.longest_wait)

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        def announce(state: RetryCallState) -> None:
            log.warning(
                "Telegram flood limit on %s: waiting %.1f s, then retry %d",
                method.__api_method__,
                state.upcoming_sleep,
                state.attempt_number,
            )

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(TelegramRetryAfter),
            wait=self._wait,
            stop=stop_after_attempt(self.attempts),
            before_sleep=announce,
            reraise=True,
        )
        return await retrying(make_request, bot, method)


METHODS_USED: tuple[type[TelegramMethod[Any]], ...] = (
    GetMe,
    GetUpdates,
    SetWebhook,
    DeleteWebhook,
    SetMyCommands,
    SendMessage,
    EditMessageText,
    AnswerCallbackQuery,
    SendPhoto,
    SendDocument,
    SendChatAction,
)


class AdvisorSession(AiohttpSession):
    """aiogram's aiohttp session that keeps the answer models of the methods the bot calls.

    aiogram parses every answer as ``Response[<result type>]``, and pydantic caches such generic
    models only weakly: each garbage collection dropped them and the next answer rebuilt one,
    5-15 ms of CPU with the event loop blocked, a third of the bot's CPU under load. Holding
    them here keeps them cached for the session's life.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.response_models = [Response[method.__returning__] for method in METHODS_USED]


def create_bot(settings: Settings) -> Bot:
    """A Bot for TELEGRAM_BOT_TOKEN talking to TELEGRAM_API_URL (Telegram's or a local server)."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    session = AdvisorSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    session.middleware(RetryAfterMiddleware())
    return Bot(
        token=settings.telegram_bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )
