"""The dialog engine through the Advisor facade, on a real SQLite database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from advisor.app import Advisor
from advisor.config import Settings
from advisor.dialog import payloads
from advisor.knowledge.loader import load_knowledge
from advisor.storage.tables import checklist_answers, conversations, users
from tests.chat_helpers import ChatUser


def make_settings(tmp_path: Path, database_url: str | None = None, **extra: object) -> Settings:
    return Settings(
        database_url=database_url or f"sqlite+aiosqlite:///{tmp_path / 'advisor.db'}",
        vk_user_token=None,
        vk_service_token=None,
        **extra,
    )


@pytest.fixture
async def advisor(tmp_path: Path, database_url: str) -> AsyncIterator[Advisor]:
    opened = await Advisor.open(make_settings(tmp_path, database_url))
    yield opened
    await opened.close()


async def set_profile(
    user: ChatUser, kind: str = "Коммерческое", goal: str = "Подписчики из своего города"
) -> None:
    await user.say("меню")
    await user.press("Тип сообщества и цель")
    await user.press(kind)
    await user.press(goal)


async def test_greeting_shows_menu(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await user.say("/start")
    assert "Здравствуйте" in user.text
    titles = [s.title for s in load_knowledge().scenarios if s.in_menu]
    for title in titles:
        assert title in user.labels()


async def test_profile_is_asked_once_then_scenario_continues(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await user.say("/start")
    await user.press("Подготовить сообщество")
    assert "К какому типу" in user.text
    assert "Коммерческое" in user.labels()
    await user.press("Коммерческое")
    assert "Какая у вас цель" in user.text
    await user.press("Продажи по любому ГЕО")
    # The requested scenario starts right after the profile.
    assert "Пройти чек-лист" in user.labels()
    await user.say("меню")
    await user.press("Найти целевую аудиторию")
    assert "К какому типу" not in user.text


async def test_readiness_checklist_builds_ordered_todo(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await set_profile(user, "Коммерческое")
    await user.say("меню")
    await user.press("Подготовить сообщество")
    await user.press("Пройти чек-лист")
    checklist = load_knowledge().checklist("readiness")
    items = [i for i in checklist.items if not i.applies_to or "commercial" in i.applies_to]
    answers = {
        "goods": "Нет",
        "starter_posts": "Нет",
        "interactive_menu": "Нет",
        "cover": "Не знаю",
    }
    for number, item in enumerate(items, start=1):
        assert f"Вопрос {number} из {len(items)}" in user.text
        assert item.question in user.text
        await user.press(answers.get(item.id, "Да"))
    text = user.text
    assert "Что доделать" in text
    by_id = {i.id: i for i in items}
    # Mandatory items first (both of these are mandatory for a commercial group), then by weight.
    assert text.index(by_id["starter_posts"].title) < text.index(by_id["goods"].title)
    assert text.index(by_id["goods"].title) < text.index(by_id["interactive_menu"].title)
    assert "обязательно для вашего типа" in text
    assert by_id["cover"].title in text.split("Проверьте сами")[1]
    async with advisor.db.connect() as connection:
        stored = (
            await connection.execute(select(func.count()).select_from(checklist_answers))
        ).scalar()
    assert stored == len(items)


async def test_checklist_accepts_typed_answers_and_rejects_nonsense(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await set_profile(user)
    await user.say("меню")
    await user.press("Подготовить сообщество")
    await user.press("Пройти чек-лист")
    assert "Вопрос 1 из" in user.text
    await user.say("да")
    assert "Вопрос 2 из" in user.text
    await user.say("может быть завтра")
    assert "Ответьте «да», «нет» или «не знаю»" in user.text
    assert "Вопрос 2 из" in user.text


async def test_back_returns_to_previous_question(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await set_profile(user)
    await user.say("меню")
    await user.press("Подготовить сообщество")
    await user.press("Пройти чек-лист")
    await user.press("Да")
    await user.press("Нет")
    assert "Вопрос 3 из" in user.text
    await user.press("← Назад")
    assert "Вопрос 2 из" in user.text
    await user.say("назад")
    assert "Вопрос 1 из" in user.text


async def test_stale_button_is_refused(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await set_profile(user)
    await user.say("меню")
    await user.press("Подготовить сообщество")
    await user.press("Пройти чек-лист")
    old_yes = user.button("Да").payload
    await user.press("Да")
    await user.payload(old_yes)
    assert "кнопка уже не действует" in user.text
    assert "Вопрос 2 из" in user.text
    await user.payload("a:zzz:qqq:1")
    assert "кнопка уже не действует" in user.text
    await user.payload("s:" + "x" * 200)
    assert "кнопка уже не действует" in user.text


async def test_public_calculator_validates_numbers(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await user.say("/start")
    await user.press("Проверить паблик")
    await user.press("Посчитать по цифрам")
    assert "Сколько участников" in user.text
    await user.say("-5")
    assert "не может быть отрицательным" in user.text
    await user.say("много")
    assert "Не понял число" in user.text
    await user.say("5 000")
    await user.say("100")
    await user.press("Пропустить")
    await user.say("150")
    assert "больше 100" in user.text
    await user.say("12")
    text = user.text
    assert "Вовлеченность: 2%" in text
    assert "накрут" in text.lower()
    assert "Вывод" in text
    assert "Посчитать ещё" in user.labels()


async def test_results_evaluator_flags_high_hide_rate(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await user.say("меню")
    await user.press("Оценить результаты")
    await user.press("Посчитать размещение")
    for value in ["3 000", "10000", "200", "50", "2500", "100"]:
        await user.say(value)
    text = user.text
    assert "CPM (цена 1000 просмотров): 300 ₽" in text
    assert "CPC (цена перехода): 15 ₽" in text
    assert "CTR (переходы от просмотров): 2%" in text
    assert "Цена подписчика: 60 ₽" in text
    assert "Доля скрытий: 25%" in text
    assert "плохо" in text


async def test_track_command_opens_the_tracker(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await user.say("/track")
    assert any("размещ" in label.lower() for label in user.labels()), user.labels()


async def test_contest_check_in_chat(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await user.say("/contest")
    assert "текст условий конкурса" in user.text
    await user.say("Розыгрыш! Отметь трёх друзей в комментариях и подпишись на спонсоров.")
    text = user.text.lower()
    assert "друз" in text and "спонсор" in text
    # The step stays open for another text.
    await user.say("Сделайте репост этой записи. Победитель должен быть подписан на группу.")
    assert "Проверить мои условия" not in user.text or user.last


async def test_free_text_is_routed_or_answered(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await user.say("как провести розыгрыш?")  # a question: the guide's answer at once
    assert "Раздел руководства" in user.text
    opened = [payloads.decode(b.payload) for b in user.buttons()]
    assert any(isinstance(p, payloads.Open) and p.scenario == "contest" for p in opened)
    await user.say("проверить условия конкурса")  # a request: the section
    assert "Проверить условия конкурса" in user.labels()
    await user.say("абракадабра")
    assert user.last and user.text
    assert "меню" in user.text.lower()


async def test_vk_link_without_token_says_not_configured(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await user.say("стоит ли брать рекламу в vk.com/club1?")
    assert "не настроена" in user.text


async def test_bad_input_gets_clear_answer(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await user.say("x" * 5_000_000)
    assert "слишком длинное" in user.text
    await user.say("\x00\x01\u200b")
    assert "пустое" in user.text
    await user.say("<script>alert(1)</script>'; DROP TABLE users; --")
    assert user.text
    async with advisor.db.connect() as connection:
        count = (await connection.execute(select(func.count()).select_from(users))).scalar()
    assert count == 1


async def test_flood_limit_answers_once_then_drops(tmp_path: Path) -> None:
    advisor = await Advisor.open(make_settings(tmp_path, flood_messages=3, flood_window_seconds=60))
    try:
        spammer = ChatUser(advisor, user_id="spam", channel="telegram")
        other = ChatUser(advisor, user_id="calm", channel="telegram")
        for _ in range(3):
            assert await spammer.say("меню")
        assert "слишком часто" in (await spammer.say("меню"))[0].text
        assert await spammer.say("меню") == []
        assert await spammer.say("меню") == []
        assert "Выберите раздел" in (await other.say("меню"))[0].text
    finally:
        await advisor.close()


async def test_users_do_not_see_each_other(advisor: Advisor) -> None:
    alice = ChatUser(advisor, user_id="alice")
    bob = ChatUser(advisor, user_id="bob")
    await set_profile(alice, "Творческое")
    await bob.say("меню")
    assert "Творческое" not in bob.text
    await bob.press("Подготовить сообщество")
    assert "К какому типу" in bob.text
    telegram_alice = ChatUser(advisor, user_id="alice", channel="telegram")
    await telegram_alice.say("меню")
    assert "Творческое" not in telegram_alice.text


async def test_restart_resumes_same_step(tmp_path: Path, database_url: str) -> None:
    first = await Advisor.open(make_settings(tmp_path, database_url))
    user = ChatUser(first)
    await set_profile(user)
    await user.say("меню")
    await user.press("Подготовить сообщество")
    await user.press("Пройти чек-лист")
    await user.press("Да")
    await user.press("Нет")
    await first.close()

    second = await Advisor.open(make_settings(tmp_path, database_url))
    try:
        user = ChatUser(second)
        await user.payload("r")
        assert "Вопрос 3 из" in user.text
        await user.press("← Назад")
        assert "Вопрос 2 из" in user.text
    finally:
        await second.close()


async def test_conversation_state_is_small(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await set_profile(user)
    await user.say("меню")
    await user.press("Подготовить сообщество")
    await user.press("Пройти чек-лист")
    for _ in range(6):
        await user.press("Да")
    async with advisor.db.connect() as connection:
        data = (await connection.execute(select(conversations.c.data))).scalar_one()
    assert len(data.encode()) < 1024


async def test_every_scenario_step_renders(advisor: Advisor) -> None:
    """Each step of each scenario can be reached by its buttons and renders text."""
    user = ChatUser(advisor)  # the console channel has no flood limit
    await set_profile(user)
    for scenario in load_knowledge().scenarios:
        if not scenario.in_menu:
            continue
        await user.say("меню")
        await user.press(scenario.title)
        assert user.text.strip(), scenario.id
        for step in scenario.steps:
            if step.kind in ("message",) and step.topics:
                await user.payload(f"g:{scenario.id}:{step.id}")
                topic = load_knowledge().topic(step.topics[0])
                assert topic.title.upper() in user.text, (scenario.id, step.id)


async def test_link_with_my_goes_to_the_audit_and_others_to_the_public_check(
    advisor: Advisor,
) -> None:
    user = ChatUser(advisor)
    await user.say("Проверь мою группу vk.com/club1")
    audit_reply = user.text
    await user.say("меню")
    await user.say("стоит ли брать рекламу в vk.com/club1?")
    check_reply = user.text
    assert "Проверка пабликов по ссылке сейчас не настроена" in check_reply
    assert audit_reply != check_reply
    await user.say("/audit vk.com/club1")
    assert user.text == audit_reply
    await user.say("меню")
    await user.say("/check vk.com/club1")
    assert user.text == check_reply
