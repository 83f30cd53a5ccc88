"""Group commit: batching of what arrives during a write, results and failures per batch."""

from __future__ import annotations

import asyncio

import pytest

from advisor.storage.batching import GroupCommit


async def test_what_arrives_during_a_write_goes_into_the_next_batch() -> None:
    batches: list[list[int]] = []
    release = asyncio.Event()

    async def write(items: list[int]) -> list[int]:
        batches.append(items)
        if len(batches) == 1:
            await release.wait()
        return [item * 10 for item in items]

    commit: GroupCommit[int, int] = GroupCommit(write)
    first = asyncio.create_task(commit.submit(1))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(commit.submit(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0)
    release.set()
    assert await first == 10
    assert await asyncio.gather(*rest) == [20, 30, 40]
    assert batches == [[1], [2, 3, 4]]


async def test_a_failed_batch_fails_its_items_only() -> None:
    calls = 0

    async def write(items: list[str]) -> list[str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database gone")
        return items

    commit: GroupCommit[str, str] = GroupCommit(write)
    doomed = asyncio.gather(commit.submit("a"), commit.submit("b"), return_exceptions=True)
    assert [type(r) for r in await doomed] == [RuntimeError, RuntimeError]
    assert await commit.submit("c") == "c"
    await commit.close()


async def test_a_write_that_answers_too_few_items_fails_them_all() -> None:
    async def write(items: list[int]) -> list[int]:
        return items[:-1]

    commit: GroupCommit[int, int] = GroupCommit(write)
    results = await asyncio.gather(commit.submit(1), commit.submit(2), return_exceptions=True)
    # Everyone of the batch hears of it; nobody is left waiting.
    assert all(isinstance(r, RuntimeError) for r in results)
    with pytest.raises(RuntimeError):
        await commit.submit(3)
