"""The deployment files keep their promises: compose, the Dockerfile and the lock file."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.telegram.runner import DRAIN_SECONDS as TELEGRAM_DRAIN
from bot.vk.runner import DRAIN_SECONDS as VK_DRAIN

REPO = Path(__file__).resolve().parents[1]
TELEGRAM_SECRETS = {"TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET"}
VK_SECRETS = {"VK_GROUP_TOKEN", "VK_CALLBACK_SECRET", "VK_CALLBACK_CONFIRMATION"}
BOTS = {
    "bot": "single",
    "bot-1": "telegram",
    "bot-2": "telegram",
    "bot-vk-1": "vk",
    "bot-vk-2": "vk",
}


def compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))


def seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)s", value)
    assert match, value
    return float(match.group(1))


def test_every_long_running_service_restarts_and_bots_are_checked_and_drained() -> None:
    services = compose()["services"]
    for name in ("db", "redis", "proxy", *BOTS):
        assert services[name]["restart"] == "unless-stopped", name
    for name in BOTS:
        assert services[name]["healthcheck"]["test"], name
        assert seconds(services[name]["stop_grace_period"]) > max(TELEGRAM_DRAIN, VK_DRAIN)


def test_passwords_are_required_and_each_bot_gets_only_its_secrets() -> None:
    text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    assert ":-advisor" not in text, "a default database password"
    services = compose()["services"]
    assert "${POSTGRES_PASSWORD:?" in services["db"]["environment"]["POSTGRES_PASSWORD"]
    assert "${POSTGRES_PASSWORD:?" in services["migrate"]["environment"]["DATABASE_URL"]
    redis_command = " ".join(services["redis"]["command"])
    assert '--requirepass "$$REDIS_PASSWORD"' in redis_command
    # An empty password would be no password: Redis refuses to start without one.
    assert '[ -n "$$REDIS_PASSWORD" ] || {' in redis_command and "exit 1" in redis_command
    for name, kind in BOTS.items():
        env = set(services[name]["environment"])
        assert "env_file" not in services[name], f"{name} would get every secret in .env"
        if kind == "telegram":
            assert TELEGRAM_SECRETS <= env and not env & VK_SECRETS, name
        if kind == "vk":
            assert VK_SECRETS <= env and not env & TELEGRAM_SECRETS, name
        if "REDIS_URL" in env:
            assert "${REDIS_PASSWORD" in services[name]["environment"]["REDIS_URL"], name
    assert set(services["migrate"]["environment"]) == {"DATABASE_URL"}


def test_dockerfile_installs_the_lock_in_its_own_layer_and_checks_health() -> None:
    lines = [
        line.strip()
        for line in (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    lock_copy = lines.index("COPY requirements.lock ./")
    lock_install = next(i for i, line in enumerate(lines) if "-r requirements.lock" in line)
    code_copy = next(i for i, line in enumerate(lines) if line.startswith("COPY advisor"))
    assert lock_copy < lock_install < code_copy, "dependencies must be installed before the code"
    assert "--require-hashes" in lines[lock_install]
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".env" in ignored and ".git/" in ignored and ".venv/" in ignored


def test_the_lock_pins_every_dependency_with_hashes() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lock = (REPO / "requirements.lock").read_text(encoding="utf-8")
    pinned = {
        canonicalize_name(match.group(1))
        for match in re.finditer(r"^([A-Za-z0-9_.-]+)==\S+ \\$", lock, re.MULTILINE)
    }
    wanted = {canonicalize_name(Requirement(spec).name) for spec in project["dependencies"]}
    assert wanted <= pinned, f"not in requirements.lock: {sorted(wanted - pinned)}"
    entries = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", lock.split("\n", 6)[-1])
    assert all("--hash=sha256:" in entry for entry in entries if "==" in entry)


def test_bots_keep_their_state_in_the_database_service() -> None:
    # The VK long-poll position is kept in the database (test_vk_bot_restart proves it of the
    # process), and every bot's database is the PostgreSQL service with its volume: a recreated
    # container starts from where the last one stopped.
    services = compose()["services"]
    assert "pgdata:/var/lib/postgresql/data" in services["db"]["volumes"]
    for name in BOTS:
        url = services[name]["environment"]["DATABASE_URL"]
        assert url.startswith("postgresql+asyncpg://") and "@db:5432/" in url, name


def test_readme_documents_the_lock_file() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "pip install --require-hashes --no-deps -r requirements.lock" in readme
    assert (
        "pip-compile --generate-hashes" in readme and "requirements.lock pyproject.toml" in readme
    )
