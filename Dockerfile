# The bot: Telegram when TELEGRAM_BOT_TOKEN is set, VK when VK_GROUP_TOKEN is set.
# Secrets come from the environment at run time; nothing secret is baked into the image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    MPLBACKEND=Agg

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY advisor ./advisor
COPY bot ./bot
COPY migrations ./migrations
RUN pip install . \
    && useradd --create-home --uid 10001 advisor

USER advisor
ENV DATABASE_URL=sqlite+aiosqlite:////home/advisor/data/advisor.db
RUN mkdir -p /home/advisor/data
VOLUME ["/home/advisor/data"]
EXPOSE 8080 8081

CMD ["promo-advisor"]
