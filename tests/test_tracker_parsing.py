"""Tracker input: number formats, dates, methods, post links, the one-line form, edits, and every
validation message."""

from __future__ import annotations

from datetime import date

import pytest

from advisor.texts import load_texts
from advisor.tracker.models import InputProblem, Problem, cross_problems, validate
from advisor.tracker.parsing import (
    parse_changes,
    parse_count,
    parse_field,
    parse_line,
    parse_method,
    parse_money,
    parse_period,
    parse_post,
)

TODAY = date(2025, 3, 10)


# --- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1500", 1500),
        ("1 500", 1500),
        ("1\u00a0500", 1500),  # a no-break space, as phones insert it
        ("1 500 000", 1_500_000),
        ("1,5 тыс", 1500),
        ("1.5k", 1500),
        ("12к", 12000),
        ("2 млн", 2_000_000),
        ("0", 0),
        ("40 шт", 40),
    ],
)
def test_counts_as_people_write_them(text: str, expected: int) -> None:
    assert parse_count(text, "views") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("150 ₽", 150.0),
        ("1 500 руб.", 1500.0),
        ("1 500,50", 1500.5),
        ("2 тыс", 2000.0),
        ("99,999", 100.0),  # kopecks: rounded to two decimals
        ("бесплатно", 0.0),
        ("0", 0.0),
    ],
)
def test_money_as_people_write_it(text: str, expected: float) -> None:
    assert parse_money(text) == expected


# --- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("01.03.2025", date(2025, 3, 1), None),
        ("1.3.25", date(2025, 3, 1), None),
        ("2025-03-01", date(2025, 3, 1), None),
        ("1 марта 2025", date(2025, 3, 1), None),
        ("1 марта 2025 г.", date(2025, 3, 1), None),
        ("сегодня", TODAY, None),
        ("вчера", date(2025, 3, 9), None),
        ("01.03.2025–05.03.2025", date(2025, 3, 1), date(2025, 3, 5)),
        ("01.03 - 05.03", date(2025, 3, 1), date(2025, 3, 5)),
        ("2025-03-01 — 2025-03-05", date(2025, 3, 1), date(2025, 3, 5)),
        ("с 1 по 5 марта", date(2025, 3, 1), date(2025, 3, 5)),
        ("1–5 марта", date(2025, 3, 1), date(2025, 3, 5)),
        ("с 01.03 до 05.03", date(2025, 3, 1), date(2025, 3, 5)),
        # Without a year: the latest such date not far ahead; the end follows the start.
        ("28.12–03.01", date(2024, 12, 28), date(2025, 1, 3)),
        ("20.04", date(2025, 4, 20), None),  # planned within two months
        ("20.06", date(2024, 6, 20), None),  # further ahead: last year's
    ],
)
def test_periods(text: str, start: date, end: date | None) -> None:
    assert parse_period(text, TODAY) == (start, end)


def test_year_inference_around_new_year() -> None:
    assert parse_period("05.01", date(2025, 12, 20)) == (date(2026, 1, 5), None)
    assert parse_period("25.12", date(2026, 1, 5)) == (date(2025, 12, 25), None)
    assert parse_period("29.02", date(2025, 3, 1)) == (date(2024, 2, 29), None)


# --- methods and links -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "method"),
    [
        ("Напрямую у админа", "admin"),
        ("договорился с администратором", "admin"),
        ("1", "admin"),
        ("биржа ВК", "vk_exchange"),
        ("Маркет-платформа", "vk_exchange"),
        ("2", "vk_exchange"),
        ("сторонняя биржа", "third_party"),
        ("через Sociate", "third_party"),
        ("VK Реклама", "vk_ads"),
        ("таргет", "vk_ads"),
        ("бесплатно", "free"),
        ("взаимопиар", "free"),
        ("5", "free"),
    ],
)
def test_methods(text: str, method: str) -> None:
    assert parse_method(text) == method


@pytest.mark.parametrize(
    ("text", "owner_id", "post_id"),
    [
        ("https://vk.com/wall-123_45", -123, 45),
        ("vk.com/wall-123_45", -123, 45),
        ("https://m.vk.com/wall-123_45?from=feed", -123, 45),
        ("https://vk.com/kulinaria?w=wall-123_45", -123, 45),
        ("vk.ru/wall-7_1", -7, 1),
    ],
)
def test_post_links(text: str, owner_id: int, post_id: int) -> None:
    post = parse_post(text)
    assert (post.owner_id, post.post_id) == (owner_id, post_id)
    assert post.link == f"https://vk.com/wall{owner_id}_{post_id}"


# --- every validation message ------------------------------------------------------------------


def _problem(call: object) -> Problem:
    with pytest.raises(InputProblem) as caught:
        call()  # type: ignore[operator]
    return caught.value.problem


# (what to run, expected code, the exact message) for every error a parser or the validation
# gives; ``bad_number`` and ``no_row`` come from picking a row in the dialog and are checked in
# tests/test_tracker_dialog.py::test_pick_row_messages.
FIELD_CASES = [
    (lambda: parse_count("много", "views"), "not_number",
     "Просмотры: не понял число «много». Пишите, например, 1 500 или 1,5 тыс."),
    (lambda: parse_count("-5", "clicks"), "negative",
     "Переходы: число не может быть меньше нуля."),
    (lambda: parse_count("1.5", "views"), "not_whole",
     "Просмотры: нужно целое число, а не «1.5». Тысячи отделяйте пробелом: 1 500."),
    (lambda: parse_count("100 млн млн", "views"), "not_number",
     "Просмотры: не понял число «100 млн млн». Пишите, например, 1 500 или 1,5 тыс."),
    (lambda: parse_count("20000 млн", "views"), "too_large",
     "Просмотры: слишком большое число (больше 10 000 000 000)."),
    (lambda: parse_money("-100"), "negative", "Бюджет: число не может быть меньше нуля."),
    (lambda: parse_money("сто рублей"), "not_number",
     "Бюджет: не понял число «сто рублей». Пишите, например, 1 500 или 1,5 тыс."),
    (lambda: parse_money("20 000 млн"), "too_large",
     "Бюджет: слишком большое число (больше 10 000 000 000)."),
    (lambda: parse_field("public", "x" * 101, TODAY), "too_long",
     "Паблик: слишком длинно — 101 символ, можно не больше 100 символов."),
    (lambda: parse_field("public", "-", TODAY), "required", "Паблик: это поле нужно заполнить."),
    (lambda: parse_method("телеграм"), "unknown_method",
     "Не понял способ «телеграм». Выберите: напрямую у админа, биржа ВК, сторонняя биржа, "
     "VK Реклама или бесплатно (можно цифрой от 1 до 5)."),
    (lambda: parse_method("биржа"), "ambiguous_method",
     "Уточните, какая биржа: «биржа ВК» или «сторонняя биржа»?"),
    (lambda: parse_post("https://vk.com/club123"), "not_post_link",
     "Это не ссылка на пост в сообществе: «https://vk.com/club123». Пример: "
     "https://vk.com/wall-123_45. Если ссылки нет, поставьте «-»."),
    (lambda: parse_post("https://vk.com/wall55_3"), "not_post_link",
     "Это не ссылка на пост в сообществе: «https://vk.com/wall55_3». Пример: "
     "https://vk.com/wall-123_45. Если ссылки нет, поставьте «-»."),
    (lambda: parse_period("вчерашний день", TODAY), "bad_date",
     "Не понял дату «вчерашний день». Пишите так: 01.03.2025, 1 марта, 01.03–05.03 "
     "или «сегодня»."),
    (lambda: parse_period("1 мартобря", TODAY), "bad_date",
     "Не понял дату «1 мартобря». Пишите так: 01.03.2025, 1 марта, 01.03–05.03 или «сегодня»."),
    (lambda: parse_period("01.03–05.03–07.03", TODAY), "bad_date",
     "Не понял дату «01.03–05.03–07.03». Пишите так: 01.03.2025, 1 марта, 01.03–05.03 "
     "или «сегодня»."),
    (lambda: parse_period("31.02.2025", TODAY), "no_such_date", "Такой даты нет: 31.02.2025."),
    (lambda: parse_period("31.04", TODAY), "no_such_date", "Такой даты нет: 31.04."),
    (lambda: parse_period("01.03.1999", TODAY), "date_out_of_range",
     "Дата 01.03.1999 не подходит: нужна не раньше 2006 года и не позже 11.03.2026."),
    (lambda: parse_period("01.03.2027", TODAY), "date_out_of_range",
     "Дата 01.03.2027 не подходит: нужна не раньше 2006 года и не позже 11.03.2026."),
    (lambda: parse_period("05.03.2025 — 01.03.2025", TODAY), "end_before_start",
     "Конец периода (01.03.2025) раньше начала (05.03.2025)."),
]  # fmt: skip


@pytest.mark.parametrize(("call", "code", "message"), FIELD_CASES)
def test_field_messages(call: object, code: str, message: str) -> None:
    problem = _problem(call)
    assert problem.code == code
    assert problem.message == message


def _line_problems(text: str) -> list[Problem]:
    return parse_line(text, TODAY).problems


LINE_CASES = [
    (lambda: _line_problems("   "), "empty_line", "Строка пустая. Пришлите поля через «;»."),
    (lambda: _line_problems("паблик: Кулинария; вчера было 40 подписок"), "unnamed_part",
     "Не понял, к какому полю относится «вчера было 40 подписок». Пишите «название: значение», "
     "например «просмотры: 5 000»."),
    (lambda: _line_problems("паблик: А; группа: Б"), "duplicate",
     "Паблик: это поле указано дважды."),
    (lambda: _line_problems(";".join(["1"] * 12)), "too_many_parts",
     "В строке 12 полей через «;», а их бывает не больше 11. Проверьте разделители."),
    (lambda: parse_changes("просмотры", TODAY).problems, "no_value",
     "Просмотры: после названия поля нужно значение, например «просмотры 5 000»."),
    (lambda: validate({"method": "admin", "start": "2025-03-01"})[1], "required",
     "Паблик: это поле нужно заполнить."),
    (lambda: cross_problems({"views": 100, "clicks": 1500}), "more_than_views",
     "Переходы: 1 500 — больше, чем просмотров (100). Проверьте цифры."),
    (lambda: cross_problems({"views": 100, "hides": 101}), "more_than_views",
     "Скрытия: 101 — больше, чем просмотров (100). Проверьте цифры."),
    (lambda: cross_problems({"start": "2025-03-05", "end": "2025-03-01"}), "end_before_start",
     "Конец периода (01.03.2025) раньше начала (05.03.2025)."),
]  # fmt: skip


@pytest.mark.parametrize(("call", "code", "message"), LINE_CASES)
def test_line_and_cross_field_messages(call: object, code: str, message: str) -> None:
    problems = call()  # type: ignore[operator]
    assert [(p.code, p.message) for p in problems] == [(code, message)]


def test_every_error_text_is_exercised() -> None:
    codes = {code for _, code, _ in FIELD_CASES + LINE_CASES} | {"bad_number", "no_row"}
    defined = {key.split(".")[-1] for key in load_texts() if key.startswith("tracker.errors.")}
    assert codes == defined


# --- the one-line form and edits ---------------------------------------------------------------


def test_positional_line_gives_every_field() -> None:
    parsed = parse_line(
        "https://vk.com/wall-1_2; Кулинария СПб; биржа ВК; видео; 1 500 ₽; 01.03–05.03; "
        "12 000; 300; 40; 500; 12",
        TODAY,
    )
    assert parsed.problems == []
    assert parsed.named is False
    assert parsed.draft == {
        "post": [-1, 2],
        "public": "Кулинария СПб",
        "method": "vk_exchange",
        "creative": "видео",
        "budget": 1500.0,
        "start": "2025-03-01",
        "end": "2025-03-05",
        "views": 12000,
        "clicks": 300,
        "subscribers": 40,
        "hides": 500,
        "actions": 12,
    }
    placement, problems = validate(parsed.draft)
    assert problems == []
    assert placement is not None and placement.post is not None
    assert placement.post.link == "https://vk.com/wall-1_2"


def test_spreadsheet_row_with_tabs_and_empty_fields() -> None:
    parsed = parse_line("-\tМамы Москвы\tадмин\t-\t3 тыс\tсегодня", TODAY)
    assert parsed.problems == []
    assert parsed.draft == {
        "post": None,
        "public": "Мамы Москвы",
        "method": "admin",
        "creative": None,
        "budget": 3000.0,
        "start": "2025-03-10",
        "end": None,
    }


def test_named_line_in_any_order_and_all_problems_at_once() -> None:
    parsed = parse_line(
        "способ: админ; просмотры: 1,2 тыс; паблик: Фитнес; период: сегодня; "
        "переходы: ок; скрытия = -3",
        TODAY,
    )
    assert parsed.named is True
    assert parsed.draft["views"] == 1200
    assert [(p.field, p.code) for p in parsed.problems] == [
        ("clicks", "not_number"),
        ("hides", "negative"),
    ]


def test_a_link_with_colon_is_not_a_field_name() -> None:
    parsed = parse_line("https://vk.com/wall-1_2; Фитнес; админ; -; 0; сегодня", TODAY)
    assert parsed.named is False
    assert parsed.problems == []


def test_changes_need_no_colon_and_dash_clears() -> None:
    parsed = parse_changes("просмотры 5 000; Скрытия: 300; целевые действия 7; креатив -", TODAY)
    assert parsed.problems == []
    assert parsed.draft == {"views": 5000, "hides": 300, "actions": 7, "creative": None}
    assert parsed.fields == ["views", "hides", "actions", "creative"]


def test_changes_do_not_take_a_word_starting_like_a_field() -> None:
    parsed = parse_changes("паблики 3", TODAY)
    assert [p.code for p in parsed.problems] == ["unnamed_part"]


def test_required_fields_cannot_be_cleared() -> None:
    parsed = parse_changes("способ -", TODAY)
    assert [(p.field, p.code) for p in parsed.problems] == [("method", "required")]
