"""Configuration from environment variables (the only global state the project allows)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DB_PATH = Path.home() / ".promo-advisor" / "advisor.db"


class Settings(BaseSettings):
    """Every setting the project reads. Secrets are SecretStr so they never print by accident."""

    # An empty variable counts as unset: compose passes `${VAR:-}` for settings left out of .env.
    model_config = SettingsConfigDict(
        env_prefix="", extra="ignore", case_sensitive=False, env_ignore_empty=True
    )

    database_url: str = Field(default=f"sqlite+aiosqlite:///{DEFAULT_DB_PATH}")
    redis_url: str | None = None

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_host: str = "0.0.0.0"
    telegram_webhook_port: int = 8080

    vk_group_token: SecretStr | None = None
    vk_group_id: int | None = None
    vk_api_url: str = "https://api.vk.com/method"
    vk_api_version: str = "5.199"
    vk_service_token: SecretStr | None = None
    vk_user_token: SecretStr | None = None
    vk_callback_port: int | None = None
    # VK posts from its own servers, so the callback server listens on every interface by default
    # (it refuses to start without VK_CALLBACK_SECRET); 127.0.0.1 behind a reverse proxy.
    vk_callback_host: str = "0.0.0.0"
    vk_callback_confirmation: SecretStr | None = None
    vk_callback_secret: SecretStr | None = None

    # Public check tuning.
    vk_service_rate_per_second: float = Field(default=5.0, gt=0)
    vk_request_timeout: float = Field(default=10.0, gt=0)
    vk_max_retries: int = Field(default=4, ge=0)
    check_posts: int = Field(default=30, ge=1, le=100)
    check_cache_seconds: int = Field(default=3600, ge=0)
    check_member_sample: int = Field(default=10000, ge=100)
    # Publics one person may check per hour (0: no limit), so that a few accounts cannot spend
    # the shared token's rate; counted across replicas through Redis.
    check_budget_per_hour: int = Field(default=30, ge=0)

    # Dialog limits.
    max_message_chars: int = Field(default=4000, ge=100)
    welcome_back_hours: float = Field(default=6, gt=0)
    """A pause this long earns «С возвращением! Мы остановились …» before the step."""
    # No person sends 30 messages in 10 seconds; a script or a stuck client does.
    flood_messages: int = Field(default=30, ge=1, description="messages per window per user")
    flood_window_seconds: float = Field(default=10.0, gt=0)

    # Campaign tracker: ask for fresh numbers this many days after a placement starts.
    tracker_reminder_days: int = Field(default=3, ge=1, le=60)
    # How often each bot process looks for due reminders (claims are safe across replicas).
    reminder_poll_seconds: float = Field(default=60, gt=0)

    # /healthz and /metrics (Prometheus) of a bot process; off when unset. Only this host sees
    # them by default (a container's own health check included); HEALTH_HOST=0.0.0.0 for a
    # scraper on another machine.
    health_port: int | None = Field(default=None, ge=1, le=65535)
    health_host: str = "127.0.0.1"

    log_level: str = "INFO"

    @field_validator("vk_api_url", "telegram_api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def vk_check_token(self) -> SecretStr | None:
        """The one token that reads communities and walls (the public check, the audit and the
        tracker's post figures): a user token may call execute, so it wins over a service one.
        An empty value counts as unset."""
        for token in (self.vk_user_token, self.vk_service_token):
            if token is not None and token.get_secret_value():
                return token
        return None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
