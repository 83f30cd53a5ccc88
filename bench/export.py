"""The tracker's XLSX export: time for 1,000 and 2,000 rows, and how long another person's /menu
waits meanwhile.

Targets (issue 17): linear growth (2,000 rows take about twice 1,000: was 12.5 s and 65 s), and
another person's turn answered within 0.5 s while an export of a full table (1,000 rows, the cap)
is written. Prints the figures with PASS/FAIL.

    python bench/export.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from advisor.app import Advisor
from advisor.config import Settings
from advisor.dialog.types import Incoming
from advisor.knowledge.loader import load_knowledge
from advisor.tracker.export import to_xlsx
from advisor.tracker.models import Placement, StoredPlacement
from advisor.tracker.repository import MAX_ROWS_PER_PERSON, PlacementRepository

MAX_RATIO = 2.6
MAX_WAIT_SECONDS = 0.5
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


def rows(count: int) -> list[StoredPlacement]:
    return [
        StoredPlacement(
            id=n,
            number=n,
            public=f"Паблик {n % 40}",
            method="admin",
            creative=f"креатив {n % 7}",
            budget=1000.0 + n,
            start=date(2025, 3, 1),
            views=10_000 + n,
            clicks=200,
            subscribers=20,
            hides=100,
            created_at=NOW,
            updated_at=NOW,
        )
        for n in range(1, count + 1)
    ]


def timed_export(count: int) -> float:
    norms = load_knowledge().norms
    table = rows(count)
    started = time.perf_counter()
    to_xlsx(table, norms)
    return time.perf_counter() - started


async def menu_wait_during_export(folder: Path) -> float:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{folder / 'bench.db'}")
    advisor = await Advisor.open(settings)
    try:
        anna = Incoming(channel="telegram", user_id="1", text="меню")
        await advisor.handle(anna)
        repo = PlacementRepository(advisor.db)
        user_pk = await repo.find_user("telegram", "1")
        assert user_pk is not None
        placement = Placement(
            public="Паблик",
            method="admin",
            budget=1000.0,
            start=date(2025, 3, 1),
            views=10_000,
            clicks=200,
            subscribers=20,
        )
        for _ in range(MAX_ROWS_PER_PERSON):
            await repo.add(user_pk, placement, NOW)
        await advisor.handle(Incoming(channel="telegram", user_id="2", text="меню"))
        # Anna asks for the XLSX (the tracker's menu, then the format), Boris for the menu.
        for label in ("Учёт размещений", "Выгрузить таблицу", "Excel (XLSX)"):
            replies = await advisor.handle(anna)
            anna = Incoming(channel="telegram", user_id="1", payload=_payload(replies, label))
        export = asyncio.create_task(advisor.handle(anna))
        waits = []
        # Boris asks again and again for as long as Anna's export takes.
        while not export.done():
            started = time.perf_counter()
            await advisor.handle(Incoming(channel="telegram", user_id="2", text="меню"))
            waits.append(time.perf_counter() - started)
            await asyncio.sleep(0.02)
        replies = await export
        assert replies[-1].document is not None, [r.text for r in replies]
        print(f"  {len(waits)} turns of another person served during the export")
        return max(waits)
    finally:
        await advisor.close()


def _payload(replies: list, label: str) -> str:
    for message in reversed(replies):
        for row in message.buttons:
            for button in row:
                if button.label == label:
                    return button.payload
    raise LookupError(label)


def main() -> int:
    timed_export(10)  # imports and caches warmed up
    one, two = timed_export(1000), timed_export(2000)
    ratio = two / one
    print(f"XLSX export: 1,000 rows {one:.2f} s, 2,000 rows {two:.2f} s, ratio {ratio:.2f}")
    linear = ratio <= MAX_RATIO
    print(f"  linear (ratio <= {MAX_RATIO}): {'PASS' if linear else 'FAIL'}")
    with tempfile.TemporaryDirectory() as folder:
        waited = asyncio.run(menu_wait_during_export(Path(folder)))
    served = waited <= MAX_WAIT_SECONDS
    print(f"another person's /menu during a {MAX_ROWS_PER_PERSON:,}-row export: max {waited:.3f} s")
    print(f"  served meanwhile (<= {MAX_WAIT_SECONDS} s): {'PASS' if served else 'FAIL'}")
    return 0 if linear and served else 1


if __name__ == "__main__":
    sys.exit(main())
