"""«Проверить мою группу» through the Advisor on a real SQLite database, VK from the fake VK API."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from advisor.app import Advisor
from advisor.config import Settings
from advisor.dialog.routing import KeywordRouter
from advisor.knowledge.loader import load_knowledge
from advisor.storage.tables import checklist_answers
from advisor.texts import t
from tests.chat_helpers import ChatUser
from tests.fakes.vk_api import FakeVK
from tests.fakes.vk_data import PostSpec, PublicSpec, make_public

KNOWLEDGE = load_knowledge()


def _d(key: str, **params: object) -> str:
    return t(f"audit.dialog.{key}", **params)


def settings_for(tmp_path: Path, vk: FakeVK | None) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'advisor.db'}",
        vk_api_url=vk.base_url if vk else "https://api.vk.com/method",
        vk_user_token=SecretStr(vk.user_token) if vk else None,
        vk_service_token=None,
    )


@pytest.fixture
async def advisor(tmp_path: Path, fake_vk: FakeVK) -> AsyncIterator[Advisor]:
    opened = await Advisor.open(settings_for(tmp_path, fake_vk))
    yield opened
    await opened.close()


def salon(**overrides: object) -> PublicSpec:
    values: dict[str, object] = {
        "id": 420_001,
        "screen_name": "liliya_salon",
        "name": "Салон красоты «Лилия»",
        "activity": "Открытая группа",
        "city": None,
        "description": "Стрижки и маникюр.",
        "n_posts": 30,
    }
    values.update(overrides)
    return make_public("healthy", **values)


async def open_audit(user: ChatUser, kind: str = "Коммерческое") -> None:
    await user.say("Проверь мою группу")
    await user.press("Проверить мою группу")  # the router suggests the section
    await user.press(kind)
    await user.press("Подписчики из своего города")
    await user.press("Пропустить")  # the city question a local goal asks once


async def test_routing_sends_my_group_to_the_audit() -> None:
    router = KeywordRouter(KNOWLEDGE.scenarios)
    assert router.route("Проверь мою группу") == "audit"
    assert router.route("проверьте наше сообщество") == "audit"
    assert router.route("проверь паблик перед покупкой") == "check"
    assert router.route("оформление группы") == "prepare"


async def test_audit_score_says_it_is_the_bots_own(advisor: Advisor, fake_vk: FakeVK) -> None:
    fake_vk.add_public(salon())
    user = ChatUser(advisor)
    await open_audit(user)
    await user.say("vk.com/liliya_salon")
    readiness = next(m.text for m in user.last if "Готовность к рекламе:" in m.text)
    assert "выбор бота" in readiness and "оценок в нём нет" in readiness
    # Counts agree with their numbers: «(1 пост)», «(3 поста)», «(12 постов)».
    content = next(m.text for m in user.last if m.text.startswith("Контент:"))
    shares = re.findall(r"% \((\d+) (\w+)\)", content)
    assert shares, content
    for number, word in shares:
        assert word == {1: "пост", 2: "поста", 3: "поста", 4: "поста"}.get(int(number), "постов")


async def test_audit_dialog_end_to_end(advisor: Advisor, fake_vk: FakeVK) -> None:
    spec = salon()
    fake_vk.add_public(spec)
    user = ChatUser(advisor)
    await open_audit(user)
    assert _d("link_prompt") in user.text
    await user.say("vk.com/liliya_salon")
    # The report: readiness with the score, search, content; then how to check another group.
    texts = [m.text for m in user.last]
    assert any("Готовность к рекламе:" in text for text in texts)
    assert any(text.startswith(t("audit.report.search_title")) for text in texts)
    assert texts[-1] == _d("other_link")
    assert user.progress == [t("audit.progress", what="vk.com/liliya_salon")]
    report = next(m for m in user.last if m.buttons)
    assert [b.label for row in report.buttons for b in row] == [
        _d("button_ask"),
        _d("button_names"),
    ]
    assert "❔ Интерактивное меню" in user.text
    # Only what VK does not show is asked: the menu, then the audience portrait.
    await user.press(_d("button_ask"))
    assert _d("ask_intro", count=2) in user.text
    items = KNOWLEDGE.checklist("readiness").items
    menu_question = next(i.question for i in items if i.id == "interactive_menu")
    assert _d("ask_item", number=1, total=2, question=menu_question) in user.text
    await user.press("Да")
    assert "Вопрос 2 из 2." in user.text
    await user.say("нет")  # typed answers work as well
    assert _d("ask_done") in user.text
    assert "Итог по группе «Салон красоты «Лилия»»" in user.text
    assert "Портрет целевой аудитории" in user.text  # now missing: in the to-do
    async with advisor.db.connect() as conn:
        rows = (await conn.execute(select(checklist_answers))).mappings().all()
    answers = {row["item_id"]: row["answer"] for row in rows if row["checklist_id"] == "readiness"}
    assert answers == {"interactive_menu": "yes", "audience_portrait": "no"}
    # Names from the owner's phrases and the city (VK does not know the city here).
    await user.press(_d("button_names"))
    assert "Как вас ищут клиенты?" in user.text
    await user.say("салон красоты, стрижки")
    assert _d("city_prompt") in user.text
    await user.say("тверь")
    assert "• Салон красоты Тверь" in user.text
    assert "• Стрижки Тверь" in user.text
    assert "Салон красоты «Лилия» Тверь" in user.text
    assert "в названии есть поисковая фраза («салон красоты», «стрижки»)" in user.text


async def test_remembered_link_runs_at_once_and_answers_count(
    advisor: Advisor, fake_vk: FakeVK
) -> None:
    fake_vk.add_public(salon())
    user = ChatUser(advisor)
    await open_audit(user)
    await user.say("https://vk.com/liliya_salon?w=wall-420001_5")  # any form of the link
    first_score = next(m.text for m in user.last if "Готовность" in m.text)
    await user.press(_d("button_ask"))
    await user.press("Да")
    await user.press("Да")
    await user.say("меню")
    calls = fake_vk.count("execute")
    await user.say("проверь мою группу")
    await user.press("Проверить мою группу")
    assert _d("remembered", link="vk.com/liliya_salon") in user.text
    assert fake_vk.count("execute") == calls + 1
    # Both never-visible items were answered «да»: nothing left to ask, the score went up.
    assert _d("button_ask") not in user.labels()
    assert "✅ Интерактивное меню — " + t("audit.evidence.owner_yes") in user.text
    second_score = next(m.text for m in user.last if "Готовность" in m.text)
    assert first_score != second_score


async def test_bad_links_and_errors_keep_the_step(advisor: Advisor, fake_vk: FakeVK) -> None:
    fake_vk.add_public(make_public("closed", screen_name="closed_salon"))
    fake_vk.add_public(salon())
    user = ChatUser(advisor)
    await open_audit(user)
    await user.say("https://t.me/salon")
    assert "t.me" in user.text
    await user.say("closed_salon")
    assert t("audit.errors.closed", what="vk.com/closed_salon") in user.text
    await user.say("vk.com/liliya_salon")  # still at the link step: the retry works
    assert "Готовность к рекламе:" in user.text


async def test_old_answer_buttons_are_harmless(advisor: Advisor, fake_vk: FakeVK) -> None:
    fake_vk.add_public(salon())
    user = ChatUser(advisor)
    await open_audit(user)
    await user.say("liliya_salon")
    await user.press(_d("button_ask"))
    old_yes = user.button("Да")
    await user.press("Нет")
    await user.press("Нет")
    await user.payload(old_yes.payload)  # the questions are over: nothing is recorded
    assert t("dialog.stale_button") in user.text
    async with advisor.db.connect() as conn:
        rows = (await conn.execute(select(checklist_answers))).mappings().all()
    assert {row["answer"] for row in rows} == {"no"}


async def test_not_understood_answer_repeats_the_question(
    advisor: Advisor, fake_vk: FakeVK
) -> None:
    fake_vk.add_public(salon())
    user = ChatUser(advisor)
    await open_audit(user)
    await user.say("liliya_salon")
    await user.press(_d("button_ask"))
    await user.say("может быть")
    assert _d("ask_not_understood") in user.text
    assert "Вопрос 1 из 2." in user.text


async def test_without_a_vk_token(tmp_path: Path) -> None:
    advisor = await Advisor.open(settings_for(tmp_path, None))
    try:
        user = ChatUser(advisor)
        await open_audit(user)
        assert _d("not_configured") in user.text
        assert "Подготовить сообщество" in user.labels()
        # The person is not held at the link question: a question gets the guide's answer.
        await user.say("как оформить обложку?")
        assert _d("not_configured") not in user.text
        assert "обложк" in user.text
        # Nor after a link to the own group typed straight away.
        other = ChatUser(advisor, user_id="u2")
        await other.say("моя группа vk.com/club123")
        assert _d("not_configured") in other.text
        await other.say("как оформить обложку?")
        assert _d("not_configured") not in other.text
    finally:
        await advisor.close()


async def test_the_portrait_made_in_the_dialog_counts_in_the_audit(
    advisor: Advisor, fake_vk: FakeVK
) -> None:
    fake_vk.add_public(salon())
    user = ChatUser(advisor)
    await open_audit(user)
    await user.say("vk.com/liliya_salon")
    assert "❔ Портрет целевой аудитории" in user.text  # VK cannot show it: unknown
    await user.say("меню")
    await user.press("Найти целевую аудиторию")
    await user.press("Составить портрет")
    for answer in ("женщины 25–40", "Тверь", "уход за собой", "быстрая запись", "мамы, фитнес"):
        await user.say(answer)
    await user.say("проверь мою группу")
    await user.press("Проверить мою группу")
    assert "✅ Портрет целевой аудитории" in user.text


async def test_one_format_feed_is_its_own_item_not_a_cap(advisor: Advisor, fake_vk: FakeVK) -> None:
    """Issue 14: 30 posts, all photos, is a feed kept up whose only fault is the variety."""
    posts = tuple(
        PostSpec(id=100 - n, date=fake_vk.now - 86_400 * (n + 1), likes=30, views=1000,
                 attachments=("photo",), text="Пост")
        for n in range(30)
    )  # fmt: skip
    description = (
        "Салон красоты в Твери: стрижки, маникюр, окрашивание. Запись по телефону "
        "и в сообщениях группы, работаем каждый день."
    )
    fake_vk.add_public(salon(posts=posts, n_posts=0, description=description))
    user = ChatUser(advisor)
    await open_audit(user)
    await user.say("vk.com/liliya_salon")
    readiness = next(m.text for m in user.last if "Готовность к рекламе:" in m.text)
    assert "Оценка не выше" not in readiness  # no 40/100 cap for a feed of 30 posts
    assert "✅ Посты в ленте — лента ведётся, но все последние посты одного формата — фото" in (
        readiness
    )
    todo = readiness.split("Что сделать")[1]
    assert "1. Разнообразьте форматы. Все последние посты — фото." in todo, todo
    assert "3–5 постов" not in todo and "опубликуйте" not in todo.lower()
    # Never advise what is already ✅: the cover, the goods and the links are all there.
    assert "✅ Раздел «Товары»" in readiness and "✅ Обложка" in readiness
    assert "«Товары» обязателен" not in readiness
    assert "раздел «Ссылки и контакты»" not in readiness
    # One post count on the screen: the content block's.
    counts = re.findall(r"постов: \d+|последние посты \(\d+\)", user.text)
    assert counts == ["последние посты (30)"], counts
    # After the owner's answers the summary keeps the item.
    await user.press(_d("button_ask"))
    await user.press("Да")
    await user.press("Да")
    assert "Разнообразьте форматы" in user.text, user.text
    assert "Оценка не выше" not in user.text
