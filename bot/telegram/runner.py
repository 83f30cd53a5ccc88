"""Starts the bot: long polling by default, a webhook server when TELEGRAM_WEBHOOK_URL is set.

Either way SIGTERM/SIGINT stop taking updates, let the ones being handled finish, then close.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
import signal
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramForbiddenError
from aiogram.webhook.aiohttp_server import setup_application
from aiohttp import web

from advisor.app import Advisor
from advisor.config import Settings
from advisor.dialog.types import Outgoing
from advisor.storage.delivery import InboxRow, OutboxRow
from advisor.texts import t
from advisor.tracker.reminders import ReminderService, ReminderUndeliverable
from bot.health import start_health_server
from bot.outbox import OutboxSender
from bot.telegram.commands import bot_commands
from bot.telegram.delivery import Delivery
from bot.telegram.handlers import build_router
from bot.telegram.inbox import inbox_middleware, restore
from bot.telegram.isolation import ChatIsolation
from bot.telegram.middlewares import CHANNEL, OncePerUpdate, PrivateChatsOnly
from bot.telegram.session import create_bot
from bot.telegram.webhook import CheckedRequestHandler
from bot.turns import TurnLifecycle, prune_handled_ids

log = logging.getLogger(__name__)

# Telegram keeps an undelivered update for 24 hours; ids older than that cannot come back.
DRAIN_SECONDS = 30.0
# A replica's start sends the unsent replies older than this: younger ones belong to turns
# another replica has in hand (its own sender is on them).
ORPHANED_AFTER = timedelta(minutes=2)
# Telegram's most: an update holds its connection for its whole turn (answered afterwards), so
# the default 40 would cap the people served at once, however many replicas there are.
WEBHOOK_CONNECTIONS = 100


def build_dispatcher(advisor: Advisor, bot: Bot) -> tuple[Dispatcher, TurnLifecycle]:
    # The event isolation takes a per-chat lock in the order updates arrive, so one person's
    # updates are handled one after another while different people are served concurrently.
    delivery = Delivery(bot)

    async def give_up(row: OutboxRow, error: Exception) -> None:
        await delivery.notice(int(row.chat_id), t("telegram.apology"))

    dispatcher = Dispatcher(
        events_isolation=ChatIsolation(),
        advisor=advisor,
        delivery=delivery,
        outbox=OutboxSender(advisor, CHANNEL, delivery.send_row, give_up, traceback=True),
    )
    lifecycle = TurnLifecycle(advisor, CHANNEL)
    dispatcher.update.outer_middleware(PrivateChatsOnly())  # before anything is stored
    dispatcher.update.outer_middleware(OncePerUpdate(lifecycle))
    dispatcher.include_router(build_router())
    return dispatcher, lifecycle


def webhook_secret(settings: Settings) -> str:
    """The configured secret, or a fresh one: Telegram learns it from setWebhook either way."""
    if settings.telegram_webhook_secret is not None:
        return settings.telegram_webhook_secret.get_secret_value()
    log.info("TELEGRAM_WEBHOOK_SECRET is not set; using a random secret for this run")
    return secrets.token_urlsafe(32)


class TelegramBot:
    """One bot process: the advisor, the aiogram Bot and Dispatcher, and their start and stop."""

    def __init__(self, settings: Settings, advisor: Advisor, bot: Bot) -> None:
        self.settings = settings
        self.advisor = advisor
        self.bot = bot
        self.dispatcher, self.in_flight = build_dispatcher(advisor, bot)
        bot.session.middleware(inbox_middleware(self.in_flight))
        self.delivery: Delivery = self.dispatcher["delivery"]
        self.outbox: OutboxSender = self.dispatcher["outbox"]
        self._resuming: set[asyncio.Task[Any]] = set()
        self._sweeping: asyncio.Task[None] | None = None
        self._pruning: asyncio.Task[None] | None = None
        self._reminding: asyncio.Task[None] | None = None
        self._stop_reminding = asyncio.Event()
        self.dispatcher.startup.register(self._on_startup)
        self.dispatcher.shutdown.register(self._on_shutdown)

    async def _on_startup(self) -> None:
        await self.bot.set_my_commands(bot_commands())
        await self._resume()
        self._pruning = asyncio.create_task(prune_handled_ids(self.advisor, CHANNEL))
        self._reminding = asyncio.create_task(
            ReminderService(self.advisor.db).run_every(
                self.send_reminder,
                self.settings.reminder_poll_seconds,
                self._stop_reminding,
                channel=CHANNEL,
            )
        )

    async def _resume(self) -> None:
        """What a killed process left: its stored updates are handled (before any new one, which
        queues behind them per chat), its unsent replies sent."""

        def feed(row: InboxRow) -> None:
            try:
                update = restore(self.bot, row.body)
            except ValueError as error:
                log.error("stored update %s unreadable, skipped: %s", row.event_id, error)
                return
            self._track(self.dispatcher.feed_update(self.bot, update))

        await self.in_flight.resume(feed)
        self._track(self.outbox.resume(self._orphans_before()))
        self._sweeping = asyncio.create_task(self.outbox.sweep_forever())

    def _orphans_before(self) -> datetime | None:
        """Replicas (Redis) leave the replies of turns in hand elsewhere to their own senders."""
        if not self.settings.redis_url:
            return None
        return datetime.now(UTC) - ORPHANED_AFTER

    def _track(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(work)
        self._resuming.add(task)
        task.add_done_callback(self._resuming.discard)

    async def send_reminder(self, channel: str, user_id: str, message: Outgoing) -> None:
        """The tracker's reminder to a chat, through the usual delivery."""
        try:
            await self.delivery.send(int(user_id), [message], raise_refused=True)
        except TelegramForbiddenError as error:
            raise ReminderUndeliverable(error.message) from error

    async def _finish_reminders(self) -> None:
        self._stop_reminding.set()
        if self._reminding is None:
            return
        done, _ = await asyncio.wait({self._reminding}, timeout=DRAIN_SECONDS)
        if not done:
            # Its claims expire after the service's lease and are sent again then.
            log.warning("stopping in the middle of sending reminders")
            self._reminding.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reminding

    async def _on_shutdown(self) -> None:
        if self._resuming:
            _, late = await asyncio.wait(set(self._resuming), timeout=DRAIN_SECONDS)
            for task in late:  # sent by the next start
                task.cancel()
        drained, _ = await asyncio.gather(
            self.in_flight.drain(DRAIN_SECONDS), self._finish_reminders()
        )
        if not drained:
            log.warning("stopping with %d updates still being handled", self.in_flight.in_hand)
        for task in (self._pruning, self._sweeping):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def poll(self) -> None:
        # A webhook left from another run would make getUpdates fail with 409 Conflict.
        await self.bot.delete_webhook(drop_pending_updates=False)
        await self.dispatcher.start_polling(self.bot, handle_signals=True)

    async def serve_webhook(self) -> None:
        url = self.settings.telegram_webhook_url or ""
        secret = webhook_secret(self.settings)
        app = web.Application()
        # Dispatcher shutdown first (it drains updates in flight), the Bot session after it.
        setup_application(app, self.dispatcher, bot=self.bot)
        handler = CheckedRequestHandler(self.dispatcher, self.bot, secret, self.in_flight)
        handler.register(app, path=urlsplit(url).path or "/")

        async def register_webhook(_: web.Application) -> None:
            await self.bot.set_webhook(
                url,
                secret_token=secret,
                allowed_updates=self.dispatcher.resolve_used_update_types(),
                max_connections=WEBHOOK_CONNECTIONS,
            )

        app.on_startup.append(register_webhook)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(
                runner, self.settings.telegram_webhook_host, self.settings.telegram_webhook_port
            )
            await site.start()
            log.info(
                "webhook server on %s:%s for %s",
                self.settings.telegram_webhook_host,
                self.settings.telegram_webhook_port,
                urlsplit(url).path or "/",
            )
            await _until_signalled()
        finally:
            await runner.cleanup()


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
        log.warning("stop signal received")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def run_telegram(settings: Settings) -> int:
    """Run until SIGTERM/SIGINT; the exit code for the process."""
    bot = create_bot(settings)
    try:
        advisor = await Advisor.open(settings)
    except BaseException:
        await bot.session.close()
        raise
    health = None
    try:
        health = await start_health_server(advisor)
        telegram = TelegramBot(settings, advisor, bot)
        # What is loaded by now (aiogram's types, the knowledge, dictionaries) lives as long as
        # the process: keep it out of garbage collection, whose full passes over it stalled
        # every chat for hundreds of milliseconds under load.
        gc.freeze()
        if settings.telegram_webhook_url:
            await telegram.serve_webhook()
        else:
            await telegram.poll()
    finally:
        if health is not None:
            await health.cleanup()
        await bot.session.close()
        await advisor.close()
    return 0
