"""The engine's contract: showing a step never acts, side trips return to the waiting question,
payloads come from one module. Through the real Advisor on SQLite, VK from the fake VK API."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from advisor.app import Advisor
from advisor.config import Settings
from advisor.dialog import payloads
from advisor.dialog.engine import Action, ActionContext
from advisor.dialog.payloads import Answer, Goto, Start, Tool
from advisor.dialog.scenario_models import InputStep
from advisor.dialog.types import Outgoing
from advisor.knowledge.loader import load_knowledge
from advisor.texts import t
from tests.chat_helpers import ChatUser
from tests.db_snapshot import reflect, snapshot
from tests.fakes.vk_api import FakeVK
from tests.fakes.vk_data import make_public

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = load_knowledge()


def _settings(tmp_path: Path, vk: FakeVK) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'advisor.db'}",
        vk_api_url=vk.base_url,
        vk_user_token=SecretStr(vk.user_token),
        vk_service_token=None,
    )


@pytest.fixture
async def advisor(tmp_path: Path, fake_vk: FakeVK) -> AsyncIterator[Advisor]:
    opened = await Advisor.open(_settings(tmp_path, fake_vk))
    yield opened
    await opened.close()


def count_commands(advisor: Advisor) -> Counter[str]:
    """Wrap every registered command so that each run is counted."""
    calls: Counter[str] = Counter()

    def counted(name: str, action: Action) -> Action:
        async def run(ctx: ActionContext) -> list[Outgoing]:
            calls[name] += 1
            return await action(ctx)

        return run

    engine = advisor.dialog
    engine.actions = {name: counted(name, action) for name, action in engine.actions.items()}
    return calls


async def set_profile(user: ChatUser) -> None:
    await user.payload(payloads.encode(Start("profile")))
    await user.press("Коммерческое")
    await user.press("Подписчики из своего города")


async def test_showing_any_step_again_has_no_side_effect(
    advisor: Advisor, fake_vk: FakeVK, tmp_path: Path
) -> None:
    """Resume after a restart, an old message's button and «Назад» only show: no command runs,
    no VK request is made, nothing but the position is written."""
    fake_vk.add_public(make_public("healthy", id=555, screen_name="kulinaria_spb"))
    calls = count_commands(advisor)
    user = ChatUser(advisor)
    await set_profile(user)
    # A tracker row exists, so that the table, the export and the deletion have work to do.
    await user.payload(payloads.encode(Start("tracker")))
    await user.press("Добавить одной строкой")
    await user.say("-; Кулинария СПб; админ; видео; 1 500; сегодня; 12 000; 300; 40; 500; 12")
    assert "Записал размещение №1" in user.text
    database = str(advisor.settings.database_url)
    tables = await reflect(database)  # once: the schema stays put (checked at the end)
    checked = 0
    for scenario in KNOWLEDGE.scenarios:
        for step in scenario.steps:
            await user.payload(payloads.encode(Start(scenario.id)))
            if (await advisor.store.load("console", user.user_id)).scenario != scenario.id:
                continue  # a scenario that hands over at once
            await user.payload(payloads.encode(Goto(scenario.id, step.id)))  # enters: may act
            if isinstance(step, InputStep) and step.id == "change":
                await user.payload(payloads.encode(Goto(scenario.id, "pick")))
                await user.say("1")
            before_calls = sum(calls.values())
            before_vk = len(fake_vk.requests)
            before_rows = _without_conversations(await snapshot(database, tables))
            shown = [m.text for m in user.last]
            for payload in (
                payloads.encode(payloads.RESUME),
                payloads.encode(Goto("nosuch", "step")),  # an unknown button
                payloads.encode(Answer(scenario.id, step.id, 99, "y")),  # a stale answer
                payloads.encode(payloads.RESUME),
            ):
                await user.payload(payload)
                assert user.text.strip(), (scenario.id, step.id, payload)
            assert sum(calls.values()) == before_calls, (scenario.id, step.id, calls)
            assert len(fake_vk.requests) == before_vk, (scenario.id, step.id)
            assert _without_conversations(await snapshot(database, tables)) == before_rows
            await user.payload(payloads.encode(payloads.BACK))
            assert sum(calls.values()) == before_calls, (scenario.id, step.id, "back")
            assert len(fake_vk.requests) == before_vk, (scenario.id, step.id, "back")
            assert _without_conversations(await snapshot(database, tables)) == before_rows
            assert shown  # the step said something when entered
            checked += 1
    assert checked >= 60
    assert (await reflect(database)).tables.keys() == tables.tables.keys()
    assert calls["tracker_export"] >= 2 and calls["tracker_delete"] >= 1  # entering did act


def _without_conversations(rows: dict[str, list[tuple[object, ...]]]) -> dict[str, object]:
    return {name: value for name, value in rows.items() if name != "conversations"}


async def test_a_link_mid_checklist_shows_the_waiting_question_again(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await set_profile(user)
    await user.payload(payloads.encode(Start("prepare")))
    await user.press("Пройти чек-лист")
    await user.press("Да")
    await user.press("Да")
    assert "Вопрос 3 из" in user.text
    await user.say("стоит ли брать рекламу в vk.com/kulinaria_spb?")
    assert t("dialog.continue_intro") in user.text
    assert "Вопрос 3 из" in user.last[-1].text
    await user.say("да")  # answers question 3, said again just now
    assert "Вопрос 4 из" in user.text


async def test_a_command_mid_checklist_can_continue_there(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await set_profile(user)
    await user.payload(payloads.encode(Start("prepare")))
    await user.press("Пройти чек-лист")
    await user.press("Нет")
    await user.press("Да")
    await user.say("/contest")
    assert t("dialog.continue") in user.labels()
    await user.press(t("dialog.continue"))
    assert t("dialog.continue_intro") in user.text
    assert "Вопрос 3 из" in user.text
    await user.press("Да")
    assert "Вопрос 4 из" in user.text
    await user.say("меню")  # leaving by the menu forgets the way back
    assert t("dialog.continue") not in user.labels()


async def test_back_after_a_form_result_does_not_reopen_the_form(advisor: Advisor) -> None:
    user = ChatUser(advisor)
    await set_profile(user)
    await user.payload(payloads.encode(Start("check")))
    intro = user.text
    await user.press("Посчитать по цифрам")
    for number in ("5000", "300", "800", "10"):
        assert "Шаг" in user.text
        await user.say(number)
    assert "Шаг" not in user.text  # the verdict
    await user.press(t("dialog.back"))
    assert "Шаг" not in user.text
    assert user.text == intro  # the step before the form, shown again


def test_payloads_round_trip_and_reject_forgeries() -> None:
    for payload in (
        payloads.MENU,
        payloads.RESUME,
        payloads.BACK,
        payloads.HELP,
        payloads.CONTINUE,
        Start("check"),
        Goto("tracker", "a_link"),
        Answer("prepare", "checklist", 3, "y"),
        Tool("public_report", "430051"),
    ):
        assert payloads.decode(payloads.encode(payload)) == payload
    for forged in ("", "x", "s:", "g:a", "a:p:c:x:y", "a:p:c:1", "g::b", "t:x", "m" * 200):
        assert payloads.decode(forged) is None, forged


# A payload string written by hand: a short code alone, or one followed by ":".
_LITERAL = re.compile(r"""payload\s*=\s*f?["'][mrbhp]["']|f?["'][sgat]:[{"'a-z]""")


def test_no_payload_literal_outside_the_payloads_module() -> None:
    offenders = []
    for folder in ("advisor", "bot"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "payloads.py":
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if _LITERAL.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


async def test_back_names_a_topic_read_a_moment_ago_instead_of_printing_it(
    advisor: Advisor,
) -> None:
    user = ChatUser(advisor)
    await set_profile(user)
    await user.payload(payloads.encode(Start("placement")))
    entered = user.text
    labels = user.labels()
    await user.press("Помогите выбрать")
    await user.press(t("dialog.back"))
    assert len(user.text) < len(entered) // 4
    assert user.labels() == labels  # the same choices as when it was entered


class _Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def _mid_checklist_with_a_clock(advisor: Advisor) -> tuple[ChatUser, _Clock]:
    clock = _Clock()
    advisor.dialog.clock = clock
    user = ChatUser(advisor)
    await set_profile(user)
    await user.payload(payloads.encode(Start("prepare")))
    await user.press("Пройти чек-лист")
    await user.press("Да")
    await user.press("Да")
    assert "Вопрос 3 из" in user.text
    return user, clock


async def test_start_after_a_long_pause_says_welcome_back_before_the_step(
    advisor: Advisor,
) -> None:
    user, clock = await _mid_checklist_with_a_clock(advisor)
    welcome = t("dialog.welcome_back", title="Подготовить сообщество")
    clock.now += 3600  # an hour later: still fresh in mind
    await user.payload(payloads.encode(payloads.RESUME))  # Telegram's /start, VK's «Начать»
    assert "С возвращением" not in user.text
    assert "Вопрос 3 из" in user.text
    clock.now += advisor.dialog.welcome_back_after
    await user.payload(payloads.encode(payloads.RESUME))
    assert user.last[0].text == welcome
    assert "Вопрос 3 из" in user.last[-1].text
    await user.payload(payloads.encode(payloads.RESUME))  # the pause is over now
    assert "С возвращением" not in user.text


async def test_a_question_after_a_long_pause_is_answered_then_the_step_is_reintroduced(
    advisor: Advisor,
) -> None:
    user, clock = await _mid_checklist_with_a_clock(advisor)
    clock.now += 2 * advisor.dialog.welcome_back_after
    await user.say("сколько постов должно быть в группе перед рекламой?")
    texts = [m.text for m in user.last]
    welcome = t("dialog.welcome_back", title="Подготовить сообщество")
    assert welcome in texts and texts.count(welcome) == 1
    assert t("dialog.continue_intro") not in texts  # one introduction, not two
    assert texts.index(welcome) > 0  # the answer comes first
    assert "Вопрос 3 из" in texts[-1]


async def test_an_answer_after_a_long_pause_is_taken_and_the_next_step_introduced(
    advisor: Advisor,
) -> None:
    user, clock = await _mid_checklist_with_a_clock(advisor)
    clock.now += 2 * advisor.dialog.welcome_back_after
    await user.say("да")
    assert "Вопрос 4 из" in user.text
    # Answering the waiting question shows they remember where they were.
    assert "С возвращением" not in user.text


async def test_hello_after_a_long_pause_returns_to_the_step_not_the_greeting(
    advisor: Advisor,
) -> None:
    user, clock = await _mid_checklist_with_a_clock(advisor)
    clock.now += 2 * advisor.dialog.welcome_back_after
    await user.say("Привет!")
    assert user.last[0].text == t("dialog.welcome_back", title="Подготовить сообщество")
    assert "Вопрос 3 из" in user.text
    assert t("dialog.greeting") not in user.text


async def test_a_text_at_a_message_step_is_not_answered_with_the_message_again(
    advisor: Advisor,
) -> None:
    """A message step asks nothing: a text the guide has no answer to gets that said, with the
    step's buttons, and the message (the profile's whole advice here) is not printed again."""
    user = ChatUser(advisor)
    await set_profile(user)
    await user.say("Тверь")  # the city question of the local goal, then the advice
    advice_title = t("actions.profile_advice_title")
    assert advice_title in user.text
    labels = user.labels()
    await user.say("у нас три сотрудника")
    assert user.text == t("answers.no_match")
    assert advice_title not in user.text
    assert user.labels() == labels
