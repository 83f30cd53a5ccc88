"""A public between two checks: every check keeps a snapshot (members, metrics, when), and a
later check of the same public (by anyone) reports the members' growth per day since then and
flags growth that reach does not follow — a padding sign.

``growth`` is a pure function; ``SnapshotStore`` is where snapshots live (the database in the
bot and the CLI: ``advisor.storage.snapshots``), injected into ``PublicChecker``. The padding
thresholds are the bot's own (the guide gives none for growth): the reason says so, and being
the bot's own it never lowers a verdict (severity ``info``).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from advisor.numbers import format_number
from advisor.texts import t
from advisor.verdicts import Reason

GROWTH_RULE = "growth_padding"
GROWTH_SECTION = "Подбор подходящих пабликов"
MIN_GAP = timedelta(hours=1)
"""A snapshot younger than this is not compared with (a day's rate from minutes is noise)."""
PADDING_MIN_GROWTH_PERCENT = 10.0
"""Members' growth since the snapshot from which reach must follow (the bot's own threshold)."""
PADDING_FOLLOW_SHARE = 0.5
"""Views per post must grow by at least this share of the members' growth (the bot's own)."""
_DAY = 86_400.0
# Moscow has kept UTC+3 all year since 2014; a fixed offset needs no tz database.
MOSCOW = timezone(timedelta(hours=3))


def moscow_time(moment: datetime) -> str:
    return moment.astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M")


class Snapshot(BaseModel):
    model_config = ConfigDict(frozen=True)

    group_id: int
    members_count: int
    metrics: dict[str, Any]
    """``MetricsOut`` as a dict (``reach_percent`` is what the growth rule reads)."""
    fetched_at: datetime


class SnapshotStore(Protocol):
    async def previous(self, group_id: int, before: datetime) -> Snapshot | None:
        """The newest snapshot of this public taken at ``before`` or earlier."""
        ...

    async def add(self, snapshot: Snapshot) -> None: ...


class GrowthOut(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    since: datetime
    """When the previous snapshot was taken."""
    days: float
    members_before: int
    members_now: int
    members_per_day: float
    members_growth_percent: float | None
    """None when the public had no members then."""
    views_growth_percent: float | None
    """Views per post (reach × members), now against then; None when either is unknown."""
    padding: bool
    """Members grew at least ``PADDING_MIN_GROWTH_PERCENT`` and views did not follow."""

    def to_json_dict(self) -> dict[str, Any]:
        def rounded(value: float | None) -> float | None:
            return round(value, 2) if value is not None else None

        return {
            "since": self.since.isoformat(timespec="seconds"),
            "days": round(self.days, 2),
            "members_before": self.members_before,
            "members_now": self.members_now,
            "members_per_day": round(self.members_per_day, 2),
            "members_growth_percent": rounded(self.members_growth_percent),
            "views_growth_percent": rounded(self.views_growth_percent),
            "padding": self.padding,
        }


def _views(members: int, metrics: dict[str, Any]) -> float | None:
    reach = metrics.get("reach_percent")
    if not isinstance(reach, int | float) or members <= 0:
        return None
    return float(reach) * members / 100


def growth(
    previous: Snapshot, members_now: int, metrics_now: dict[str, Any], now: datetime
) -> GrowthOut | None:
    """Members' growth per day since ``previous``; None when it is too recent to tell."""
    elapsed = (now - previous.fetched_at).total_seconds()
    if elapsed < MIN_GAP.total_seconds():
        return None
    days = elapsed / _DAY
    before = previous.members_count
    change = members_now - before
    members_growth = change / before * 100 if before > 0 else None
    views_then, views_now = _views(before, previous.metrics), _views(members_now, metrics_now)
    views_growth = (
        (views_now - views_then) / views_then * 100
        if views_then is not None and views_now is not None and views_then > 0
        else None
    )
    padding = (
        members_growth is not None
        and views_growth is not None
        and members_growth >= PADDING_MIN_GROWTH_PERCENT
        and views_growth < members_growth * PADDING_FOLLOW_SHARE
    )
    return GrowthOut(
        since=previous.fetched_at,
        days=days,
        members_before=before,
        members_now=members_now,
        members_per_day=change / days,
        members_growth_percent=members_growth,
        views_growth_percent=views_growth,
        padding=padding,
    )


def _signed(value: float, digits: int) -> str:
    shown = format_number(value, digits)
    return shown if value < 0 or shown.startswith("-") else f"+{shown}"


def growth_line(found: GrowthOut) -> str:
    """«📈 С прошлой проверки (…): +120 подписчиков, +60 в день» for the chat."""
    return t(
        "portrait.growth",
        since=moscow_time(found.since),
        change=_signed(found.members_now - found.members_before, 0),
        per_day=_signed(found.members_per_day, 1),
    )


def growth_reason(found: GrowthOut, since_text: str) -> Reason | None:
    """The padding sign as a verdict reason (the bot's own threshold: severity ``info``)."""
    if not found.padding:
        return None
    assert found.members_growth_percent is not None and found.views_growth_percent is not None
    return Reason(
        rule=GROWTH_RULE,
        severity="info",
        text=t(
            "portrait.growth_padding",
            since=since_text,
            members_percent=format_number(found.members_growth_percent),
            views_percent=format_number(found.views_growth_percent),
            min_growth=format_number(PADDING_MIN_GROWTH_PERCENT, 0),
        ),
        numbers={
            "members_growth_percent": found.members_growth_percent,
            "views_growth_percent": found.views_growth_percent,
            "members_per_day": found.members_per_day,
        },
        section=GROWTH_SECTION,
    )
