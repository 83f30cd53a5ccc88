# The bot: Telegram when TELEGRAM_BOT_TOKEN is set, VK when VK_GROUP_TOKEN is set.
# Secrets come from the environment at run time; nothing secret is baked into the image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MPLBACKEND=Agg

WORKDIR /app
# The dependencies in a layer of their own, pinned with hashes by the lock file: rebuilt only
# when requirements.lock changes, not on every code change, and the same versions every time.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock

COPY pyproject.toml README.md alembic.ini ./
COPY advisor ./advisor
COPY bot ./bot
COPY migrations ./migrations
# The project itself; its dependencies are all in the layer above.
RUN pip install --no-deps . \
    && useradd --create-home --uid 10001 advisor

USER advisor
ENV DATABASE_URL=sqlite+aiosqlite:////home/advisor/data/advisor.db \
    HEALTH_PORT=9100
RUN mkdir -p /home/advisor/data
VOLUME ["/home/advisor/data"]
EXPOSE 8080 8081

# /healthz answers 200 when the database (and Redis, if used) answer. It listens on 127.0.0.1
# by default (HEALTH_HOST), which is where this check runs: inside the container.
HEALTHCHECK --interval=15s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HEALTH_PORT', '9100'), timeout=5)"]

CMD ["promo-advisor"]
