"""/healthz and /metrics for a bot process, on HEALTH_PORT (an aiohttp server beside the bot)."""

from __future__ import annotations

import logging

from aiohttp import web

from advisor.app import Advisor

log = logging.getLogger(__name__)


def health_app(advisor: Advisor) -> web.Application:
    async def healthz(_request: web.Request) -> web.Response:
        status = await advisor.health()
        healthy = all(status.values())
        return web.json_response(
            {"status": "ok" if healthy else "degraded", **status}, status=200 if healthy else 503
        )

    async def metrics(_request: web.Request) -> web.Response:
        response = web.Response(body=advisor.metrics.render())
        response.headers["Content-Type"] = advisor.metrics.content_type
        return response

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


async def start_health_server(advisor: Advisor) -> web.AppRunner | None:
    """Starts the server when HEALTH_PORT is set; the caller cleans the runner up on exit."""
    port = advisor.settings.health_port
    if port is None:
        return None
    runner = web.AppRunner(health_app(advisor), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, advisor.settings.health_host, port).start()
    log.info("health and metrics on %s:%d", advisor.settings.health_host, port)
    return runner
