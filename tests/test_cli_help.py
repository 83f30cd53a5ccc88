"""The command line's --version and its help: Russian, and naming the variables each bot reads."""

from __future__ import annotations

from importlib import metadata

import pytest

from bot.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as stopped:
        main(list(args))
    assert stopped.value.code == 0
    return capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--version").strip() == f"promo-advisor {metadata.version('promo-advisor')}"


@pytest.mark.parametrize(
    ("command", "variables"),
    [
        (
            "telegram",
            ["TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "DATABASE_URL", "REDIS_URL"],
        ),
        ("vk", ["VK_GROUP_TOKEN", "VK_CALLBACK_SECRET", "VK_CALLBACK_HOST", "HEALTH_HOST"]),
        ("migrate", ["DATABASE_URL"]),
    ],
)
def test_bot_help_names_the_environment_variables(
    capsys: pytest.CaptureFixture[str], command: str, variables: list[str]
) -> None:
    text = run(capsys, command, "--help")
    assert text.startswith(f"использование: promo-advisor {command}")
    assert "показать эту справку и выйти" in text and "Переменные окружения:" in text
    for variable in variables:
        assert variable in text
    # argparse's own English words are not left in the Russian help.
    for english in ("usage:", "options:", "show this help"):
        assert english not in text


def test_main_help_is_russian(capsys: pytest.CaptureFixture[str]) -> None:
    text = run(capsys, "--help")
    assert "команды:" in text and "--version" in text and "usage:" not in text
