"""What owners type, through the real Advisor (SQLite, console channel): questions get the guide's
answer in the first reply, chat intents are understood, choices and numbers are accepted in free
words, and a question mid-scenario ends by showing the waiting step again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from advisor.app import Advisor
from advisor.config import Settings
from advisor.dialog import payloads
from advisor.dialog.state import DialogState
from advisor.texts import t
from tests.chat_helpers import ChatUser

DATA = Path(__file__).parent / "data"
ANSWERED_AT_LEAST = 0.90


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
    return loaded


@pytest.fixture
async def advisor(tmp_path: Path) -> AsyncIterator[Advisor]:
    opened = await Advisor.open(
        Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'advisor.db'}")
    )
    yield opened
    await opened.close()


async def set_profile(user: ChatUser) -> None:
    await user.payload(payloads.encode(payloads.Start("profile")))
    await user.press("Коммерческое")
    await user.press("Подписчики из своего города")


async def test_owner_questions_are_answered_in_the_first_reply(
    advisor: Advisor, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = _load("owner_questions.yaml")["questions"]
    assert len(corpus) >= 150
    missed = []
    for number, item in enumerate(corpus):
        user = ChatUser(advisor, user_id=f"q{number}")
        await user.say(item["q"])
        first = user.last[0].text if user.last else ""
        if item["expect"].lower() not in first.lower():
            missed.append(f"{item['q']!r}: {first[:80]!r}")
    share = 1 - len(missed) / len(corpus)
    with capsys.disabled():
        print(f"\nowner questions answered through the engine: {share:.1%} of {len(corpus)}")
    assert share >= ANSWERED_AT_LEAST, "\n".join(missed)


async def test_a_question_mid_checklist_is_answered_then_the_question_comes_back(
    advisor: Advisor,
) -> None:
    user = ChatUser(advisor)
    await set_profile(user)
    await user.payload(payloads.encode(payloads.Start("prepare")))
    await user.press("Пройти чек-лист")
    await user.press("Да")
    assert "Вопрос 2 из" in user.text
    await user.say("а сколько надо постов?")
    assert "3-5" in user.last[0].text or "3–5" in user.last[0].text
    assert t("dialog.continue_intro") in user.text
    assert "Вопрос 2 из" in user.last[-1].text
    await user.say("нет")
    assert "Вопрос 3 из" in user.text


async def test_free_words_answer_a_choice(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await user.payload(payloads.encode(payloads.Start("profile")))
    await user.say("у меня магазин, продаю свечи")
    assert t("dialog.choice_saved", title="Коммерческое") in user.text
    await user.say("хочу клиентов из Твери")
    conversation = await advisor.store.load("console", user.user_id)
    assert (conversation.community_type, conversation.goal) == ("commercial", "local_subscribers")


@pytest.mark.parametrize(
    ("typed", "members"), [("полторы тысячи", "1 500"), ("около 400", "400"), ("5000", "5 000")]
)
async def test_numbers_in_words_answer_a_numeric_step(
    advisor: Advisor, typed: str, members: str
) -> None:
    user = ChatUser(advisor)
    await set_profile(user)
    await user.payload(payloads.encode(payloads.Start("check")))
    await user.press("Посчитать по цифрам")
    await user.say(typed)
    assert "Шаг 2 из" in user.text, user.text


async def test_cancel_leaves_the_form_and_keeps_the_answers(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await set_profile(user)
    await user.payload(payloads.encode(payloads.Start("prepare")))
    await user.press("Пройти чек-лист")
    await user.press("Да")
    await user.say("стоп")
    assert t("answers.intents.cancel") in user.text
    assert "Подготовить сообщество" in user.labels()  # the menu
    conversation = await advisor.store.load("console", user.user_id)
    assert conversation.scenario is None
    assert await advisor.store.checklist_answers(conversation.user_pk, "readiness")


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("помогите", "help"),
        ("с чего начать?", "help"),
        ("спасибо!", "thanks"),
        ("how do I promote my group?", "english"),
        ("👍👍", "emoji"),
    ],
)
async def test_chat_intents_get_a_polite_russian_answer(
    advisor: Advisor, typed: str, key: str
) -> None:
    user = ChatUser(advisor)
    await user.say(typed)
    assert t(f"answers.intents.{key}") in user.text
    if key == "help":
        assert user.labels().count("Подготовить сообщество") == 1


async def test_nothing_matches_says_so_honestly(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await user.say("какая погода будет завтра в Сочи?")
    assert t("answers.no_match") in user.text
    assert "Подготовить сообщество" in user.labels()


async def test_free_form_answers_through_the_engine(
    advisor: Advisor, capsys: pytest.CaptureFixture[str]
) -> None:
    """The corpus of free-form answers typed on the profile's choices and on the calculator's
    numeric steps: each gives its value (or, for a negative, the clear refusal)."""
    corpus = _load("free_answers.yaml")
    missed = []
    for number, item in enumerate(corpus["choices"]):
        user = ChatUser(advisor, user_id=f"c{number}")
        await user.payload(payloads.encode(payloads.Start("profile")))
        if item["kind"] == "goal":
            await user.press("Коммерческое")
        await user.say(item["text"])
        conversation = await advisor.store.load("console", user.user_id)
        if getattr(conversation, item["kind"]) != item["expect"]:
            missed.append(f"{item['text']!r} -> {getattr(conversation, item['kind'])}")
    for number, item in enumerate(corpus["numbers"]):
        user = ChatUser(advisor, user_id=f"n{number}")
        await set_profile(user)
        await user.payload(payloads.encode(payloads.Start("check")))
        await user.press("Посчитать по цифрам")
        if item.get("percent"):
            for typed in ("5000", "300", "800"):
                await user.say(typed)
        await user.say(item["text"])
        if item["expect"] < 0:
            ok = t("dialog.number_negative") in user.text
        elif item.get("percent"):
            ok = "Шаг" not in user.text and t("dialog.number_invalid") not in user.text
        else:
            state = DialogState.load((await advisor.store.load("console", user.user_id)).data)
            ok = state.form.get("members") == item["expect"]
        if not ok:
            missed.append(f"{item['text']!r}: {user.text[:60]!r}")
    total = len(corpus["choices"]) + len(corpus["numbers"])
    assert total >= 60
    share = 1 - len(missed) / total
    with capsys.disabled():
        print(f"\nfree-form answers understood through the engine: {share:.1%} of {total}")
    assert share >= ANSWERED_AT_LEAST, "\n".join(missed)
