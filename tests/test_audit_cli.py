"""`python -m bot audit LINK [--json]` as a real process against the fake VK API."""

from __future__ import annotations

import json
import os
from pathlib import Path

from advisor.texts import t
from tests.fakes.vk_api import FakeVK
from tests.fakes.vk_data import make_public
from tests.launcher import run_to_end

REPO = Path(__file__).resolve().parents[1]
DESCRIPTION = (
    "Салон красоты в Твери: стрижки, окрашивание, маникюр. Запись онлайн и по телефону, "
    "напишите нам в сообщения группы. Правила: переносим запись за сутки."
)


def cli_env(vk: FakeVK | None, **tokens: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VK_", "TELEGRAM_"))}
    env["PYTHONPATH"] = str(REPO)
    if vk is not None:
        env["VK_API_URL"] = vk.base_url
    env.update(tokens)
    return env


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    return await run_to_end(["audit", *args], env=env, cwd=REPO)


def add_salon(vk: FakeVK, **overrides: object) -> None:
    values: dict[str, object] = {
        "id": 430_001,
        "screen_name": "liliya_salon",
        "name": "Салон красоты «Лилия»",
        "city": None,
        "description": DESCRIPTION,
        "cover": False,
    }
    values.update(overrides)
    vk.add_public(make_public("healthy", **values))


async def test_json_against_the_fake(fake_vk: FakeVK) -> None:
    add_salon(fake_vk)
    env = cli_env(fake_vk, VK_USER_TOKEN=fake_vk.user_token)
    code, out, err = await run_cli(
        "https://vk.com/liliya_salon",
        "--json",
        "--type",
        "commercial",
        "--niche",
        "салон красоты, стрижки",
        "--city",
        "Тверь",
        env=env,
    )
    assert code == 0, err
    data = json.loads(out)
    assert {"input", "group", "score", "items", "todo"} <= set(data)
    assert data["input"] == "https://vk.com/liliya_salon"
    assert data["group"]["screen_name"] == "liliya_salon"
    assert data["community_type"] == "commercial"
    items = {item["id"]: item for item in data["items"]}
    assert items["cover"]["status"] == "missing" and items["cover"]["advice"]
    assert items["name_keywords"]["status"] == "missing"
    assert items["interactive_menu"]["status"] == "unknown"
    assert {item["status"] for item in data["items"]} <= {"ok", "missing", "unknown"}
    assert 0 <= data["score"] <= 100
    assert data["todo"][0]["id"] == "cover"
    assert data["search"]["suggested_names"][:2] == ["Салон красоты Тверь", "Стрижки Тверь"]
    assert data["search"]["hashtag"] == "#Полезныйсовет@liliya_salon"
    assert data["content"]["posts_analyzed"] > 0
    assert data["vk_requests"] == 1
    assert fake_vk.user_token not in out + err
    assert err == ""  # stderr is not a terminal: no progress lines


async def test_text_with_service_token(fake_vk: FakeVK) -> None:
    add_salon(fake_vk)
    env = cli_env(fake_vk, VK_SERVICE_TOKEN=fake_vk.service_token)
    code, out, err = await run_cli("club430001", env=env)
    assert code == 0, err
    assert "Группа «Салон красоты «Лилия»» — vk.com/liliya_salon" in out
    assert "Готовность к рекламе:" in out
    assert t("audit.report.no_type") in out
    assert t("audit.report.search_title") in out
    assert "❌ Обложка — обложки нет" in out


async def test_errors_use_the_checks_codes(fake_vk: FakeVK) -> None:
    fake_vk.add_public(make_public("closed", screen_name="closed_salon"))
    env = cli_env(fake_vk, VK_USER_TOKEN=fake_vk.user_token)
    for link, expected in [
        ("closed_salon", "closed"),
        ("vk.com/nobody_here", "not_found"),
        ("https://t.me/x", "invalid_link"),
    ]:
        code, out, _ = await run_cli(link, "--json", env=env)
        assert code == 1
        data = json.loads(out)
        assert data == {"input": link, "error": data["error"]}
        assert data["error"]["code"] == expected
    code, out, _ = await run_cli("closed_salon", env=env)
    assert code == 1
    assert t("audit.errors.closed", what="vk.com/closed_salon") in out


async def test_without_token_exits_2(fake_vk: FakeVK) -> None:
    code, out, err = await run_cli("vk.com/anything", "--json", env=cli_env(fake_vk))
    assert code == 2
    assert out == ""
    assert t("audit.errors.no_token") in err
    assert fake_vk.count() == 0


async def test_bad_token_is_misconfigured(fake_vk: FakeVK) -> None:
    add_salon(fake_vk)
    bad = "vk1.a.wrong-" + "q" * 30
    code, out, err = await run_cli(
        "liliya_salon", "--json", env=cli_env(fake_vk, VK_USER_TOKEN=bad)
    )
    assert code == 1
    assert json.loads(out)["error"]["code"] == "misconfigured"
    assert "VK_USER_TOKEN" in err and bad not in err + out


async def test_bad_type_is_refused(fake_vk: FakeVK) -> None:
    env = cli_env(fake_vk, VK_USER_TOKEN=fake_vk.user_token)
    code, _, err = await run_cli("liliya_salon", "--type", "shop", env=env)
    assert code == 2
    assert "--type" in err
    assert fake_vk.count() == 0
