"""The VK bot process: Bots Long Poll by default, Callback API when VK_CALLBACK_PORT is set.

SIGTERM / SIGINT stop taking new events, let the conversations in hand finish (up to
DRAIN_SECONDS), save the long-poll position and close everything.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from advisor.app import Advisor
from advisor.config import DEFAULT_DB_PATH, Settings
from advisor.dialog.types import Outgoing
from advisor.storage.delivery import InboxRow
from advisor.storage.longpoll_positions import LongPollPositions
from advisor.tracker.reminders import ReminderService, ReminderUndeliverable
from advisor.vk.api import VkApiError, VkClient, VkUnavailable
from bot.health import start_health_server
from bot.turns import prune_handled_ids
from bot.vk.batch import CallBatcher
from bot.vk.callback import CallbackServer
from bot.vk.dispatch import PerKeySerial
from bot.vk.events import VkAction, parse_update
from bot.vk.frontend import CHANNEL, VkFrontend
from bot.vk.keyboards import KeyboardMode
from bot.vk.longpoll import HandledTs, LongPoll
from bot.vk.outgoing import plan_reply
from bot.vk.sender import UNREACHABLE_CODES, VkSender

log = logging.getLogger(__name__)

DRAIN_SECONDS = 30.0
# A replica's start sends the unsent replies older than this: younger ones belong to turns
# another replica has in hand (its own sender is on them).
ORPHANED_AFTER = timedelta(minutes=2)
# People served at once; their database work is bounded separately (frontend.ENGINE_SLOTS).
MAX_CONCURRENT_PEOPLE = 2000
# VK retries a callback for minutes and long poll keeps hours of history: a day covers both.
# A reminder answers no event, so the person's client is unknown: an inline keyboard of text
# buttons is shown by every client that has inline keyboards, and a press arrives as message_new.
REMINDER_KEYBOARD = KeyboardMode.INLINE_TEXT


def route_vkbottle_logs() -> None:
    """vkbottle gives its logger its own stderr handler, which would bypass the secret filter
    of the root handler; its records go through the root handler only."""
    import vkbottle.modules  # noqa: F401 - the import installs the handler being removed

    logging.getLogger("vkbottle").handlers.clear()


def state_path(settings: Settings, group_id: int) -> Path | None:
    """Where older versions kept the long-poll position (a file beside the SQLite database);
    read once by a database that has none yet."""
    url = make_url(settings.database_url)
    folder = DEFAULT_DB_PATH.parent
    if url.get_backend_name() == "sqlite":
        database = url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        folder = Path(database).expanduser().resolve().parent
    return folder / f"vk-longpoll-{group_id}.json"


async def resolve_group_id(client: VkClient) -> int:
    """The community of the token, when VK_GROUP_ID is not set."""
    response = await client.call("groups.getById", {})
    groups = response.get("groups") if isinstance(response, dict) else response
    if isinstance(groups, list) and groups and isinstance(groups[0], dict):
        return int(groups[0]["id"])
    raise ValueError("groups.getById named no community")


def _has_value(secret: SecretStr | None) -> bool:
    return secret is not None and bool(secret.get_secret_value().strip())


def _config_problem(settings: Settings) -> str | None:
    if settings.vk_group_token is None or not settings.vk_group_token.get_secret_value():
        return "VK_GROUP_TOKEN is not set: the community token is needed"
    if settings.vk_callback_port is not None and settings.vk_callback_confirmation is None:
        return "VK_CALLBACK_PORT is set but VK_CALLBACK_CONFIRMATION is not"
    if settings.vk_callback_port is not None and not _has_value(settings.vk_callback_secret):
        return (
            "VK_CALLBACK_PORT is set but VK_CALLBACK_SECRET is not: without it anyone who finds "
            "the URL can post forged events; set the secret key of the community's Callback API"
        )
    return None


async def run_vk(settings: Settings) -> int:
    problem = _config_problem(settings)
    if problem:
        log.error("VK bot not started: %s", problem)
        return 2
    advisor = await Advisor.open(settings)
    # The advisor's VK gateway owns the community token's client and closes it; replicas share
    # the token, so they share its rate too (through Redis).
    client = advisor.vk.community
    assert client is not None
    http = aiohttp.ClientSession()
    health = None
    try:
        health = await start_health_server(advisor)
        try:
            group_id = settings.vk_group_id or await resolve_group_id(client)
        except (VkApiError, VkUnavailable, ValueError) as exc:
            log.error("VK bot not started: set VK_GROUP_ID (cannot read the community id: %s)", exc)
            return 2
        calls = CallBatcher(client, advisor.metrics)
        try:
            return await VkBot(settings, advisor, client, http, calls, group_id).serve()
        finally:
            await calls.close()
    finally:
        if health is not None:
            await health.cleanup()
        await http.close()
        await advisor.close()


class VkBot:
    """Events from long poll or the callback server, one person's in order, to the frontend."""

    def __init__(
        self,
        settings: Settings,
        advisor: Advisor,
        client: VkClient,
        http: aiohttp.ClientSession,
        calls: CallBatcher,
        group_id: int,
    ) -> None:
        self.settings = settings
        self.advisor = advisor
        self.client = client
        self.http = http
        self.group_id = group_id
        self.sender = VkSender(calls, http, settings.vk_request_timeout)
        self.frontend = VkFrontend(advisor, self.sender)
        self.serial: PerKeySerial[VkAction] = PerKeySerial(
            self.frontend.handle, MAX_CONCURRENT_PEOPLE
        )
        self.queued = advisor.metrics.queue_depth.labels(CHANNEL)
        self.stop = asyncio.Event()
        self.state: HandledTs | None = None
        self.callback: CallbackServer | None = None

    def submit(self, update: dict[str, Any], done: Callable[[], None] | None = None) -> None:
        action = parse_update(update)
        if action is None:
            log.debug("VK: update of type %r ignored", update.get("type"))
            if done is not None:
                done()
            return
        self.queued.inc()

        def handled() -> None:
            self.queued.dec()
            if done is not None:
                done()

        self.serial.submit(action.peer_id, action, handled)

    def _submit_all(self, updates: list[dict[str, Any]], done: Callable[[], None]) -> None:
        for update in updates:
            self.submit(update, done)

    async def store(self, updates: list[dict[str, Any]]) -> None:
        """The inbox: the updates worth answering stored before VK is told they arrived (the
        next long poll request, the Callback API's "ok")."""
        entries = []
        for update in updates:
            action = parse_update(update)
            if action is not None:
                body = json.dumps(update, ensure_ascii=False, separators=(",", ":"))
                entries.append((action.event_id, str(action.peer_id), body))
        await self.frontend.lifecycle.receive(entries)

    async def store_one(self, update: dict[str, Any]) -> None:
        await self.store([update])

    async def _resume(self) -> asyncio.Task[int]:
        """What a killed process left: its stored events are handed over before any new one
        (one person's queue behind them), its unsent replies are sent."""

        def feed(row: InboxRow) -> None:
            try:
                update = json.loads(row.body)
            except ValueError as error:
                log.error("VK: stored event %s unreadable, skipped: %s", row.event_id, error)
                return
            if isinstance(update, dict):
                self.submit(update)

        await self.frontend.lifecycle.resume(feed)
        created_before = datetime.now(UTC) - ORPHANED_AFTER if self.settings.redis_url else None
        return asyncio.create_task(self.frontend.outbox.resume(created_before))

    async def _start_source(self) -> asyncio.Task[Any]:
        """The task that receives events: the long poll, or (callback) waiting for the stop."""
        settings = self.settings
        if settings.vk_callback_port is None:
            self.state = HandledTs(
                LongPollPositions(
                    self.advisor.db, self.group_id, state_path(settings, self.group_id)
                )
            )
            poll = LongPoll(self.client, self.http, self.group_id, self.state, store=self.store)
            return asyncio.create_task(poll.run(self._submit_all))
        assert settings.vk_callback_confirmation is not None
        assert settings.vk_callback_secret is not None  # _config_problem refused to start without
        self.callback = CallbackServer(
            self.submit,
            confirmation=settings.vk_callback_confirmation,
            secret=settings.vk_callback_secret,
            group_id=self.group_id,
            store=self.store_one,
        )
        await self.callback.start(settings.vk_callback_host, settings.vk_callback_port)
        return asyncio.create_task(self.stop.wait())

    async def send_reminder(self, channel: str, user_id: str, message: Outgoing) -> None:
        """The tracker's reminder to a person. Its random_ids come from the person and the text,
        so a send repeated after a lost answer (this tick or a later one) is not shown twice."""
        peer_id = int(user_id)
        pieces = plan_reply([message], REMINDER_KEYBOARD)
        try:
            await self.sender.send_or_raise(peer_id, f"reminder:{peer_id}:{message.text}", pieces)
        except VkApiError as exc:
            if exc.vk_code in UNREACHABLE_CODES:
                raise ReminderUndeliverable(f"VK error {exc.vk_code}") from exc
            raise

    async def _finish_reminders(self, reminding: asyncio.Task[None]) -> None:
        done, _ = await asyncio.wait({reminding}, timeout=DRAIN_SECONDS)
        if not done:
            # Its claims expire after the service's lease and are sent again then.
            log.warning("VK: stopping in the middle of sending reminders")
            reminding.cancel()
            with suppress(asyncio.CancelledError):
                await reminding

    async def serve(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)
        resuming = await self._resume()
        source = await self._start_source()
        pruner = asyncio.create_task(prune_handled_ids(self.advisor, "VK"))
        sweeper = asyncio.create_task(self.frontend.outbox.sweep_forever())
        reminding = asyncio.create_task(
            ReminderService(self.advisor.db).run_every(
                self.send_reminder,
                self.settings.reminder_poll_seconds,
                self.stop,
                channel=CHANNEL,
            )
        )
        stopper = asyncio.create_task(self.stop.wait())
        code = 0
        try:
            await asyncio.wait({source, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if source.done() and not self.stop.is_set():
                code = _failure_code(source)
            log.info("VK bot stopping")
        finally:
            self.stop.set()  # the reminder loop ends after the tick in hand
            if not resuming.done():
                await asyncio.wait({resuming}, timeout=DRAIN_SECONDS)
            for task in (source, stopper, pruner, resuming, sweeper):
                task.cancel()
            for task in (source, stopper, pruner, resuming, sweeper):
                with suppress(asyncio.CancelledError, Exception):
                    await task
            if self.callback is not None:
                await self.callback.stop()
            await asyncio.gather(
                self.serial.drain(DRAIN_SECONDS), self._finish_reminders(reminding)
            )
            if self.state is not None:
                await self.state.save()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        log.info("VK bot stopped")
        return code


def _failure_code(worker: asyncio.Task[Any]) -> int:
    exc = worker.exception()
    if isinstance(exc, VkApiError):
        log.error(
            "VK refused the long poll (%s): check VK_GROUP_TOKEN, VK_GROUP_ID and that Bots Long "
            "Poll with message_new and message_event is switched on for the community",
            exc,
        )
        return 2
    if exc is not None:
        log.error("VK long poll stopped", exc_info=exc)
        return 1
    return 0
