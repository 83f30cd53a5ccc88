"""Prometheus metrics of one process. Owned by the Advisor instance, not module-global, so tests
and several advisors in one process never share counters."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates = Counter(
            "promo_advisor_updates_total",
            "User actions handled by the dialog",
            ["channel"],
            registry=self.registry,
        )
        self.errors = Counter(
            "promo_advisor_errors_total",
            "User actions that ended in an apology",
            ["channel"],
            registry=self.registry,
        )
        self.dropped = Counter(
            "promo_advisor_flood_dropped_total",
            "User actions dropped by the flood limit",
            ["channel"],
            registry=self.registry,
        )
        self.turn_seconds = Histogram(
            "promo_advisor_turn_seconds",
            "Time to handle one user action",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.api_seconds = Histogram(
            "promo_advisor_api_seconds",
            "Latency of calls to the VK API and the Telegram Bot API",
            ["api", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "promo_advisor_queue_depth",
            "Updates received and not yet handled",
            ["channel"],
            registry=self.registry,
        )

    @contextmanager
    def api_call(self, api: str, method: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.api_seconds.labels(api, method).observe(time.perf_counter() - started)

    def render(self) -> bytes:
        return generate_latest(self.registry)
