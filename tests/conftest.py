"""Shared fixtures of the test suite."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.vk_api import FakeVK


@pytest.fixture
async def fake_vk() -> AsyncIterator[FakeVK]:
    """A started fake VK API; the test fails if any answer broke the VK schema."""
    async with FakeVK() as vk:
        yield vk
    assert vk.schema_violations == [], "fake VK answers violate the VK schema"
    assert vk.unimplemented_calls == [], "methods the fake VK API does not implement yet"
    assert vk.internal_errors == [], "the fake VK API crashed"
