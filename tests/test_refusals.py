"""Refused unauthenticated requests are logged at most once per interval, with a count."""

from __future__ import annotations

import logging

import pytest

from bot.refusals import RefusalLog


def test_refusals_are_logged_once_per_interval_with_the_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [100.0]
    refusals = RefusalLog(logging.getLogger("refusals-test"), interval=60, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="refusals-test"):
        written = [
            refusals.refused("secret", "wrong secret from %s", "1.2.3.4") for _ in range(500)
        ]
        assert written == [True] + [False] * 499
        # Another kind is its own line.
        assert refusals.refused("unreadable", "unreadable from %s", "1.2.3.4")
        now[0] += 59.9
        assert not refusals.refused("secret", "wrong secret from %s", "1.2.3.4")
        now[0] += 0.2
        assert refusals.refused("secret", "wrong secret from %s", "5.6.7.8")
    lines = [record.getMessage() for record in caplog.records]
    assert lines == [
        "wrong secret from 1.2.3.4",
        "unreadable from 1.2.3.4",
        "wrong secret from 5.6.7.8 (and 500 more such requests in the last 60 s)",
    ]
