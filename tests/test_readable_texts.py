"""Issue 14, «shorter, no repetition» and wording: what a person reads, through the Advisor with
the fake VK API (or the engine without VK)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from advisor.app import Advisor
from advisor.config import Settings
from advisor.dialog import payloads
from advisor.dialog.payloads import Tool
from advisor.texts import t
from tests.chat_helpers import ChatUser
from tests.fakes.vk_api import FakeVK
from tests.fakes.vk_data import PublicSpec, make_public

REPO = Path(__file__).resolve().parents[1]

# A count and the noun after it: the noun's form the number asks for (nominative after a bare
# number; «по» wants the dative, «из» the genitive).
_FORMS = {
    "пост": ("пост", "поста", "постов"),
    "пост_datv": ("посту", "постам", "постам"),
    "подписчик_gent": ("подписчика", "подписчиков", "подписчиков"),
    "день": ("день", "дня", "дней"),
}


def form(number: int, word: str) -> str:
    one, few, many = _FORMS[word]
    if number % 10 == 1 and number % 100 != 11:
        return one
    if number % 10 in (2, 3, 4) and number % 100 not in (12, 13, 14):
        return few
    return many


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


def public(public_id: int, name: str, **overrides: object) -> PublicSpec:
    values: dict[str, object] = {
        "id": public_id,
        "screen_name": f"public_{public_id}",
        "name": name,
    }
    values.update(overrides)
    return make_public("healthy", **values)


# --- point 3: Russian number agreement, whose norm the chart shows --------------------------


async def test_counts_agree_in_the_public_report(advisor: Advisor, fake_vk: FakeVK) -> None:
    spec = public(430_001, "Кофейня «Зерно»", n_posts=22)
    fake_vk.add_public(spec)
    user = ChatUser(advisor)
    await user.say(f"vk.com/{spec.screen_name}")
    text = user.text
    assert "подп." not in text and "разм." not in text
    er = re.search(r"Вовлеченность \(ER\): [\d,]+% — посчитана по (\d+) (\w+)", text)
    assert er is not None, text
    assert er.group(2) == form(int(er.group(1)), "пост_datv")
    assert "(проверен каждый из 12 000 участников)" in text
    assert "Охват чужой рекламы не оценить: в ленте нет чужих рекламных постов" in text


async def test_progress_names_the_publics_with_their_count(
    advisor: Advisor, fake_vk: FakeVK
) -> None:
    specs = [public(430_011 + i, f"Паблик {i}") for i in range(2)]
    for spec in specs:
        fake_vk.add_public(spec)
    user = ChatUser(advisor)
    await user.say(" ".join(f"vk.com/{s.screen_name}" for s in specs))
    assert user.progress[0].startswith("Проверяю 2 паблика."), user.progress


async def test_members_agree_after_prepositions(tmp_path: Path) -> None:
    advisor = await Advisor.open(settings_for(tmp_path, None))
    try:
        user = ChatUser(advisor)
        await user.say("/start")
        await user.press("Проверить паблик")
        await user.press("Посчитать по цифрам")
        for answer in ("1 001", "100", "150", "12"):
            await user.say(answer)
        assert "для сообщества на 1 001 участника" in user.text, user.text
        assert "участников." not in user.text
    finally:
        await advisor.close()


async def test_days_ago_in_words(advisor: Advisor, fake_vk: FakeVK) -> None:
    fake_vk.add_public(
        make_public(
            "healthy",
            id=430_021,
            screen_name="liliya_salon",
            name="Салон красоты «Лилия»",
            last_post_days_ago=21,
            post_interval_days=3,
        )
    )
    user = ChatUser(advisor)
    await user.say("Проверь мою группу")
    await user.press("Проверить мою группу")
    await user.press("Коммерческое")
    await user.press("Подписчики из своего города")
    await user.press("Пропустить")  # the owner's city
    await user.say("vk.com/liliya_salon")
    assert "дн." not in user.text
    last = re.search(r"последний пост — (\d+) (\w+) назад", user.text)
    assert last is not None, user.text
    assert int(last.group(1)) >= 21 and last.group(2) == form(int(last.group(1)), "день")


async def test_the_chart_says_whose_engagement_line_it_is(
    advisor: Advisor, fake_vk: FakeVK
) -> None:
    sizes = {430_031: 800, 430_032: 20_000, 430_033: 200_000}
    for public_id, members in sizes.items():
        fake_vk.add_public(public(public_id, f"Паблик {members}", members_count=members))
    from advisor.vk.chart import er_norm_label

    checker = advisor.features.public_check
    assert checker is not None
    results = await checker.check([f"club{public_id}" for public_id in sizes])
    labels = [er_norm_label(r.chart) for r in results if r.chart is not None]
    assert labels == [
        "Норма вовлеченности 15% (руководство)",
        "Ориентир бота 7,2% (в руководстве нормы нет)",
        "Норма вовлеченности 3% (руководство)",
    ]


# --- point 1: shorter, no repetition -----------------------------------------------------------


async def open_with_profile(user: ChatUser, section: str, kind: str, goal: str) -> None:
    await user.say("/start")
    await user.press(section)
    await user.press(kind)
    await user.press(goal)


async def test_profile_advice_is_said_once(tmp_path: Path) -> None:
    advisor = await Advisor.open(settings_for(tmp_path, None))
    try:
        user = ChatUser(advisor)
        await open_with_profile(
            user, "Подготовить сообщество", "Коммерческое", "Продажи по любому ГЕО"
        )
        text = user.text
        assert "цель («продажи по любому ГЕО»)" in text  # «ГЕО», not «гео»
        bullets = [line for line in text.splitlines() if line.startswith("• ")]
        assert len(bullets) == len(set(bullets))
        # «Раздел «Товары» обязателен» and «Называйте товары…» are not said a second time.
        assert text.count("«Товары»") == 1, text
        # Right after the advice, the preparation card does not tailor it again…
        assert t("dialog.tailored_title") not in text
        # …nor tells to choose the type and the goal just chosen.
        assert "Определите, к какому типу" not in text and "Поставьте цель" not in text
        assert "Проверьте по чек-листу, готова ли группа к рекламе." in text
        assert text.count("готова ли группа к рекламе") == 1  # the summary is not the body again
    finally:
        await advisor.close()


async def test_placement_intro_says_marking_once_and_not_again_on_back(tmp_path: Path) -> None:
    advisor = await Advisor.open(settings_for(tmp_path, None))
    try:
        user = ChatUser(advisor)
        await open_with_profile(
            user, "Как разместить рекламу", "Творческое", "Небольшая активная аудитория"
        )
        intro = user.text
        assert intro.count("должна быть промаркирована") == 1, intro
        assert "СПОСОБЫ РАЗМЕЩЕНИЯ РЕКЛАМЫ" in intro and "МАРКИРОВКА РЕКЛАМЫ" in intro
        await user.press("Напрямую у админа")
        await user.press("← Назад")
        assert "СПОСОБЫ РАЗМЕЩЕНИЯ РЕКЛАМЫ" not in user.text
        assert "«Способы размещения рекламы»" in user.text and "Напрямую у админа" in user.labels()
    finally:
        await advisor.close()


async def test_topic_cards_do_not_repeat_their_summary(tmp_path: Path) -> None:
    advisor = await Advisor.open(settings_for(tmp_path, None))
    try:
        user = ChatUser(advisor)
        await user.say("/start")
        await user.press("Проверить паблик")
        await user.press("Как выбирать паблики")
        text = user.text
        assert text.count("Вовлеченность = активности") == 1, text
        assert "Если в группе 5 000 человек, а вовлеченность 2–3%" in text
        assert "При 5 000 участников и вовлеченности 2–3%" not in text
    finally:
        await advisor.close()


async def test_the_check_answer_says_marking_once(advisor: Advisor, fake_vk: FakeVK) -> None:
    spec = public(430_041, "Кофейня «Зерно»")
    fake_vk.add_public(spec)
    user = ChatUser(advisor)
    await user.say(f"vk.com/{spec.screen_name}")
    assert user.text.count("промаркирова") == 1, user.text


# --- point 2: several publics — a compact summary, each report behind «Подробнее» ---------------


def three_publics(fake_vk: FakeVK) -> list[PublicSpec]:
    specs = [
        public(430_051, "Кофейня «Зерно»"),
        public(430_052, "Тверь: кафе и события", members_count=3_000, inactive_fraction=0.45),
        public(430_053, "Handmade ярмарка", views_per_post=150),
    ]
    for spec in specs:
        fake_vk.add_public(spec)
    return specs


async def test_several_publics_get_a_summary_and_each_report_on_request(
    advisor: Advisor, fake_vk: FakeVK
) -> None:
    specs = three_publics(fake_vk)
    user = ChatUser(advisor)
    await user.say(" ".join(f"vk.com/{s.screen_name}" for s in specs))
    summary = user.last[0]
    rows = [line for line in summary.text.splitlines() if re.match(r"\d\. ", line)]
    assert len(rows) == 3, summary.text
    for row in rows:
        assert re.search(r"— (брать|осторожно|не брать): ER [\d,]+%, охват", row), row
        assert "неактивных" in row
    assert "Цифры посчитал бот по открытым данным ВКонтакте" in summary.text
    assert "Почему:" not in user.text  # the reports wait behind their buttons
    assert len(user.text) < 2_500, len(user.text)
    labels = [f"Подробнее: {s.name}" for s in specs]
    assert set(labels) <= set(user.labels())
    assert "кнопки «Подробнее»" in summary.text

    requests = len(fake_vk.requests)
    await user.press("Подробнее: Тверь: кафе и события")
    report = user.text
    assert report.startswith("Паблик «Тверь: кафе и события» — vk.com/public_430052"), report
    assert "Почему:" in report and "Неактивных подписчиков" in report
    chart = user.last[0].image
    assert chart is not None and chart.png.startswith(b"\x89PNG")  # drawn from the check's cache
    # Elsewhere in the dialog the summary's buttons still show what was kept; VK is not asked.
    await user.press("☰ Меню")
    await user.press("Подготовить сообщество")
    await user.payload(summary.buttons[0][0].payload)
    assert "Почему:" in user.text and user.text.startswith("Паблик «")
    assert len(fake_vk.requests) == requests
    # Only the engine's tools answer such a button; a forged one names a command in vain.
    await user.payload(payloads.encode(Tool("public_check", "vk.com/club1")))
    assert user.text.startswith(t("dialog.stale_button"))
    assert len(fake_vk.requests) == requests


async def test_details_in_the_console_by_number(tmp_path: Path, fake_vk: FakeVK) -> None:
    import asyncio
    import os
    import sys

    specs = three_publics(fake_vk)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VK_", "TELEGRAM_"))}
    env.update(
        PYTHONPATH=str(REPO),
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}",
        VK_API_URL=fake_vk.base_url,
        VK_USER_TOKEN=fake_vk.user_token,
    )
    links = " ".join(f"vk.com/{s.screen_name}" for s in specs)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "chat",
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    # The greeting's menu has ten choices; after the summary, [1] is the best public's details.
    script = f"{links}\n1\nподробнее: handmade ярмарка\n"
    out, err = await asyncio.wait_for(process.communicate(script.encode()), timeout=120)
    output = out.decode()
    assert process.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()
    assert "  [1] Подробнее: " in output
    assert output.count("Почему:") == 2, output[-3000:]
    assert "Паблик «Handmade ярмарка» — vk.com/public_430053" in output


# --- point 4: the guide's examples in the owner's words -----------------------------------------


async def free_card(user: ChatUser, button: str) -> str:
    await user.press("☰ Меню")
    await user.press("Бесплатное продвижение")
    await user.press("Все способы")
    await user.press(button)
    return user.text


async def test_examples_take_the_owners_city_phrases_and_address(
    advisor: Advisor, fake_vk: FakeVK
) -> None:
    fake_vk.add_public(
        make_public(
            "healthy",
            id=430_061,
            screen_name="igrushki_kzn",
            name="Вязаные игрушки ручной работы",
            city=None,
        )
    )
    user = ChatUser(advisor)
    await open_with_profile(
        user, "Бесплатное продвижение", "Творческое", "Подписчики из своего города"
    )
    # Nothing told yet: the guide's own examples.
    search = await free_card(user, "Поиск и название")
    assert "«Салон красоты Тверь»" in search
    assert "#рубрика@адрес_группы" in await free_card(user, "Хештеги")

    # The audit learns the address, the search phrases and the city…
    await user.press("☰ Меню")
    await user.press("Проверить мою группу")
    await user.say("vk.com/igrushki_kzn")
    await user.press(t("audit.dialog.button_names"))
    await user.say("вязаные игрушки, амигуруми")
    await user.say("казань")
    # …and the examples elsewhere in the dialog use them.
    search = await free_card(user, "Поиск и название")
    assert "«Вязаные игрушки Казань» или «Амигуруми Казань»" in search, search
    assert "Тверь" not in search and "Ростов-на-Дону" not in search
    assert "#рубрика@igrushki_kzn" in await free_card(user, "Хештеги")
    await user.press("☰ Меню")
    await user.press("Бесплатное продвижение")
    await user.press("Составить мой план")
    await user.say("300")
    assert "(например, «Вязаные игрушки Казань»)" in user.text, user.text
    assert "(около 300 подписчиков)" in user.text


async def test_details_without_the_cache_still_show_the_kept_report(
    tmp_path: Path, fake_vk: FakeVK
) -> None:
    settings = settings_for(tmp_path, fake_vk).model_copy(update={"check_cache_seconds": 0})
    advisor = await Advisor.open(settings)
    try:
        specs = three_publics(fake_vk)
        user = ChatUser(advisor)
        await user.say(" ".join(f"vk.com/{s.screen_name}" for s in specs))
        requests = len(fake_vk.requests)
        await user.press("Подробнее: Кофейня «Зерно»")
        assert user.text.startswith("Паблик «Кофейня «Зерно»»") and "Почему:" in user.text
        assert user.last[0].image is None  # the cache keeps nothing: the text alone
        assert len(fake_vk.requests) == requests
    finally:
        await advisor.close()


async def test_counts_agree_in_dialog_replies(tmp_path: Path) -> None:
    advisor = await Advisor.open(settings_for(tmp_path, None))
    try:
        user = ChatUser(advisor)
        await user.say("я" * 4_001)
        assert "Сообщение слишком длинное: 4 001 символ. Пришлите не больше 4 000 символов." in (
            user.text
        )
        await user.say("какая норма вовлеченности для группы на 5 001 участник?")
        assert "для 5 001 участника около" in user.text, user.text
        assert "участников:" not in user.text
    finally:
        await advisor.close()


async def test_a_list_keeps_its_items_though_another_card_said_them(tmp_path: Path) -> None:
    advisor = await Advisor.open(settings_for(tmp_path, None))
    try:
        user = ChatUser(advisor)
        await user.say("/start")
        await user.press("Оценить результаты")  # asks no profile
        await user.press("Где смотреть статистику")
        report = user.text[user.text.index("СТАТИСТИКА ОТ АДМИНИСТРАТОРА") :]
        for item in ("сколько человек перешло и вступило в группу;", "охват;"):
            assert item in report, report
    finally:
        await advisor.close()
