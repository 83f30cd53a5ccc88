"""Reminders to send fresh numbers, for the front-ends' schedulers.

The guide says to ask for statistics again once the post has stayed up a while; a reminder is
due ``reminder_days`` after a placement starts (see ``repository.reminder_due_at``). Reminders
live in the database, so they survive restarts, and each fires at most once:

1. ``due_reminders(now)`` claims due rows one by one with a conditional UPDATE (the row must be
   unsent and unclaimed, or its claim expired), so two replicas never claim the same row;
2. the front-end sends the message;
3. ``mark_sent`` records it (only the claim's holder can); ``release`` gives the row back when
   sending failed, and after ``max_attempts`` failures (or a permanent one: the person blocked
   the bot) the reminder is dropped.

A sender that dies between sending and ``mark_sent`` leaves the claim to expire after ``lease``;
only then can another replica send it again. Keep ``lease`` well above the time a send takes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from advisor.dialog import payloads
from advisor.dialog.engine import menu_row
from advisor.dialog.types import Button, Outgoing
from advisor.storage.tables import users
from advisor.storage.tracker_tables import tracker_placements as placements
from advisor.storage.tracker_tables import tracker_reminders as reminders
from advisor.texts import t
from advisor.tracker.repository import today_in_moscow

log = logging.getLogger(__name__)

# The scenario the reminder's button opens: it picks the oldest row waiting for numbers.
UPDATE_SCENARIO = "tr_update"
DEFAULT_LEASE = timedelta(minutes=10)
DEFAULT_MAX_ATTEMPTS = 5

Send = Callable[[str, str, Outgoing], Awaitable[None]]


class ReminderUndeliverable(Exception):
    """Raised by a front-end's ``send`` when the person can never get it (blocked the bot)."""


@dataclass(frozen=True)
class DueReminder:
    """A claimed reminder: send ``message`` to ``user_id`` on ``channel``, then ``mark_sent``."""

    id: int
    token: str
    channel: str
    user_id: str
    message: Outgoing


def reminder_message(
    number: int,
    public: str,
    creative: str | None,
    start_day: str,
    days: int,
    method: str | None = None,
) -> Outgoing:
    lines = [t("tracker.reminder.text", number=number, public=public, start=start_day, days=days)]
    if creative:
        lines.append(t("tracker.card_creative", creative=creative))
    # Where the figures are depends on how the ad was placed: the admin, the exchange's
    # cabinet, VK Реклама's cabinet.
    where = t(f"verdicts.stats_where.{method or 'unknown'}")
    lines.append(t("tracker.reminder.ask", where=where))
    return Outgoing(
        text="\n".join(lines),
        buttons=[
            [
                Button(
                    label=t("tracker.reminder.button"),
                    payload=payloads.encode(payloads.Start(UPDATE_SCENARIO)),
                )
            ],
            *menu_row(),
        ],
    )


class ReminderService:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        lease: timedelta = DEFAULT_LEASE,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> None:
        self.engine = engine
        self.lease = lease
        self.max_attempts = max_attempts

    async def due_reminders(
        self, now: datetime, limit: int = 50, *, channel: str | None = None
    ) -> list[DueReminder]:
        """Claim up to ``limit`` due reminders for this caller and build their messages; with
        ``channel``, only that channel's (a front-end must not claim what it cannot send)."""
        free = and_(
            reminders.c.sent_at.is_(None),
            reminders.c.failed_at.is_(None),
            or_(reminders.c.claimed_until.is_(None), reminders.c.claimed_until < now),
        )
        query = (
            select(
                reminders.c.id,
                users.c.channel,
                users.c.external_id,
                placements.c.number,
                placements.c.public,
                placements.c.creative,
                placements.c.start_date,
                placements.c.method,
            )
            .select_from(
                reminders.join(placements, placements.c.id == reminders.c.placement_id).join(
                    users, users.c.id == placements.c.user_id
                )
            )
            .where(and_(reminders.c.due_at <= now, free))
            .order_by(reminders.c.due_at, reminders.c.id)
            .limit(limit)
        )
        if channel is not None:
            query = query.where(users.c.channel == channel)
        async with self.engine.connect() as connection:
            candidates = (await connection.execute(query)).all()
        claimed: list[DueReminder] = []
        for row in candidates:
            token = secrets.token_hex(16)
            async with self.engine.begin() as connection:
                result = await connection.execute(
                    update(reminders)
                    .where(and_(reminders.c.id == row.id, free))
                    .values(
                        claim_token=token,
                        claimed_until=now + self.lease,
                        attempts=reminders.c.attempts + 1,
                    )
                )
            if result.rowcount != 1:
                continue  # another replica claimed it between the read and the update
            today = today_in_moscow(now)
            message = reminder_message(
                row.number,
                row.public,
                row.creative,
                row.start_date.strftime("%d.%m.%Y"),
                (today - row.start_date).days,
                row.method,
            )
            claimed.append(DueReminder(row.id, token, row.channel, row.external_id, message))
        return claimed

    async def mark_sent(self, reminder: DueReminder, now: datetime) -> bool:
        """Record the send; ``False`` when the claim was lost (it expired and was re-claimed)."""
        async with self.engine.begin() as connection:
            result = await connection.execute(
                update(reminders)
                .where(
                    and_(
                        reminders.c.id == reminder.id,
                        reminders.c.claim_token == reminder.token,
                        reminders.c.sent_at.is_(None),
                    )
                )
                .values(sent_at=now, claim_token=None, claimed_until=None)
            )
        return result.rowcount == 1

    async def release(
        self, reminder: DueReminder, now: datetime, *, permanent: bool = False
    ) -> None:
        """Sending failed: retry at a later tick, or give up after too many attempts."""
        async with self.engine.begin() as connection:
            attempts = (
                await connection.execute(
                    select(reminders.c.attempts).where(
                        and_(
                            reminders.c.id == reminder.id,
                            reminders.c.claim_token == reminder.token,
                        )
                    )
                )
            ).scalar()
            if attempts is None:
                return
            give_up = permanent or attempts >= self.max_attempts
            await connection.execute(
                update(reminders)
                .where(
                    and_(reminders.c.id == reminder.id, reminders.c.claim_token == reminder.token)
                )
                .values(
                    claim_token=None,
                    claimed_until=None,
                    failed_at=now if give_up else None,
                )
            )
        if give_up:
            log.warning(
                "reminder %s dropped after %s attempts (permanent=%s)",
                reminder.id,
                attempts,
                permanent,
            )

    async def run_every(
        self, send: Send, every: float, stop: asyncio.Event, *, channel: str | None = None
    ) -> None:
        """A front-end's scheduler: a tick every ``every`` seconds until ``stop`` is set; a tick
        once begun is never cut short, so no send is abandoned half-way."""
        while not stop.is_set():
            try:
                sent = await self.run_once(send, channel=channel)
                if sent:
                    log.info("sent %d %s reminders", sent, channel or "")
            except Exception:
                log.exception("the %s reminder tick failed", channel or "")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)

    async def run_once(
        self, send: Send, now: datetime | None = None, *, channel: str | None = None
    ) -> int:
        """One scheduler tick: claim, send and record every due reminder (of ``channel``, when
        given); the number sent."""
        moment = now or datetime.now(UTC)
        sent = 0
        for reminder in await self.due_reminders(moment, channel=channel):
            try:
                await send(reminder.channel, reminder.user_id, reminder.message)
            except ReminderUndeliverable:
                log.info("reminder %s: %s user cannot get messages", reminder.id, reminder.channel)
                await self.release(reminder, moment, permanent=True)
                continue
            except Exception:
                log.exception("reminder %s: sending failed", reminder.id)
                await self.release(reminder, moment)
                continue
            if await self.mark_sent(reminder, now or datetime.now(UTC)):
                sent += 1
            else:
                log.warning("reminder %s: claim expired before it was marked sent", reminder.id)
        return sent
