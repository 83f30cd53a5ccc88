"""What the user sees while a long turn runs: "typing…" and one status message kept up to date."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import TracebackType

from aiogram import Bot
from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest

from advisor.texts import t
from bot.telegram.formatting import as_html

log = logging.getLogger(__name__)

# Telegram shows a chat action for about 5 seconds.
TYPING_REFRESH = 4.5


class TurnProgress:
    """The engine's progress for one turn (``async with``), a ``ProgressBoard``.

    "Typing" starts when the turn is slower than ``typing_after`` seconds or reports progress;
    the first status line becomes a message that later lines edit; an item's lines (a public's
    first estimate, then its final figure or verdict) are one message of their own, edited
    likewise. They go straight to the chat: the turn's reply, committed with its state, says
    all they say (``ProgressBoard``). A failure to show progress is logged and never breaks
    the turn itself.
    """

    def __init__(self, bot: Bot, chat_id: int, typing_after: float = 1.0) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self.typing_after = typing_after
        self.message_id: int | None = None
        self.shown: str | None = None
        self.items: dict[str, int | None] = {}
        self._now = asyncio.Event()
        self._typing: asyncio.Task[None] | None = None

    async def __aenter__(self) -> TurnProgress:
        self._typing = asyncio.create_task(self._keep_typing())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.finish()

    async def finish(self) -> None:
        """Typing stops and the status line says "done": before the answer is sent (once)."""
        if self._typing is not None:
            self._typing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._typing
            self._typing = None
        if self.message_id is not None and self.shown != as_html(t("telegram.progress_done")):
            # The status line must not keep saying "checking…" once the answer is there.
            await self._show(t("telegram.progress_done"))

    async def _keep_typing(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._now.wait(), self.typing_after)
        while True:
            try:
                await self.bot.send_chat_action(chat_id=self.chat_id, action=ChatAction.TYPING)
            except TelegramAPIError as error:
                log.info("typing action for chat %s failed: %s", self.chat_id, error)
                return
            await asyncio.sleep(TYPING_REFRESH)

    async def __call__(self, status: str) -> None:
        self._now.set()
        await self._show(t("telegram.progress", status=status))

    async def item(self, key: str, status: str) -> None:
        self._now.set()
        # As it is: an item's last line says it is done («…, отчёт ниже»), no hourglass.
        text = as_html(status)
        message_id = self.items.get(key)
        if message_id is None and key in self.items:
            return  # its first message was not sent: the answer will say it all
        try:
            if message_id is None:
                self.items[key] = None
                message = await self.bot.send_message(chat_id=self.chat_id, text=text)
                self.items[key] = message.message_id
            else:
                await self.bot.edit_message_text(
                    chat_id=self.chat_id, message_id=message_id, text=text
                )
        except TelegramBadRequest as error:
            log.info("item status for chat %s not shown: %s", self.chat_id, error.message)
        except TelegramAPIError as error:
            log.warning("item status for chat %s not shown: %s", self.chat_id, error)

    async def _show(self, line: str) -> None:
        text = as_html(line)
        if text == self.shown:
            return
        try:
            if self.message_id is None:
                message = await self.bot.send_message(chat_id=self.chat_id, text=text)
                self.message_id = message.message_id
            else:
                await self.bot.edit_message_text(
                    chat_id=self.chat_id, message_id=self.message_id, text=text
                )
            self.shown = text
        except TelegramBadRequest as error:
            log.info("progress for chat %s not shown: %s", self.chat_id, error.message)
        except TelegramAPIError as error:
            log.warning("progress for chat %s not shown: %s", self.chat_id, error)
