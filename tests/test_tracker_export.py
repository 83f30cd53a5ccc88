"""CSV and XLSX exports, written and read back with independent readers."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import openpyxl
import pytest

from advisor.knowledge.loader import load_knowledge
from advisor.tracker.export import COLUMNS, filename, to_csv, to_xlsx
from advisor.tracker.models import PostRef, StoredPlacement

NORMS = load_knowledge().norms
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)

HEADER = [
    "№", "Ссылка на пост", "Паблик", "Способ", "Креатив", "Бюджет, ₽", "Начало", "Конец",
    "Просмотры", "Переходы", "Подписки", "Скрытия", "Целевые действия", "Лайки", "Репосты",
    "Комментарии", "Участников в паблике", "CPM, ₽", "CPC, ₽", "CTR, %", "Цена подписчика, ₽",
    "Целевые действия от переходов, %", "Скрытия, %", "Вывод",
]  # fmt: skip


def placements() -> list[StoredPlacement]:
    common = {"created_at": NOW, "updated_at": NOW}
    return [
        StoredPlacement(
            id=10, number=1, post=PostRef(owner_id=-123, post_id=45), public="Кулинария СПб",
            method="vk_exchange", creative="видео «до/после»", budget=1500.5,
            start=date(2025, 3, 1), end=date(2025, 3, 5), views=12000, clicks=300,
            subscribers=40, hides=1800, actions=18, likes=150, reposts=12, comments=7,
            members=80000, **common,
        ),
        # A creative that looks like a formula, nothing reported yet.
        StoredPlacement(
            id=11, number=3, public="Мамы; Москвы", method="admin", creative="=2+2",
            budget=None, start=date(2025, 3, 8), **common,
        ),
    ]  # fmt: skip


def test_csv_round_trip() -> None:
    data = to_csv(placements(), NORMS)
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == HEADER
    assert rows[1] == [
        "1", "https://vk.com/wall-123_45", "Кулинария СПб", "Биржа ВК", "видео «до/после»",
        "1500,5", "01.03.2025", "05.03.2025", "12000", "300", "40", "1800", "18", "150", "12",
        "7", "80000", "125,04", "5", "2,5", "37,51", "6", "15", "норма",
    ]  # fmt: skip
    # The «;» inside a name is quoted by the writer; the formula-looking text is defused.
    assert rows[2] == [
        "3", "", "Мамы; Москвы", "Напрямую у админа", "'=2+2", "", "08.03.2025", "", "", "", "",
        "", "", "", "", "", "", "", "", "", "", "", "", "ждём цифры",
    ]  # fmt: skip
    assert len(rows) == 3


def test_xlsx_round_trip() -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(to_xlsx(placements(), NORMS)))
    assert workbook.sheetnames == ["Размещения", "Сравнение"]
    table = [list(r) for r in workbook["Размещения"].iter_rows(values_only=True)]
    assert table[0] == HEADER
    assert table[1] == [
        1, "https://vk.com/wall-123_45", "Кулинария СПб", "Биржа ВК", "видео «до/после»", 1500.5,
        datetime(2025, 3, 1), datetime(2025, 3, 5), 12000, 300, 40, 1800, 18, 150, 12, 7, 80000,
        125.04, 5, 2.5, 37.51, 6, 15, "норма",
    ]  # fmt: skip
    assert table[2] == [
        3, None, "Мамы; Москвы", "Напрямую у админа", "=2+2", None, datetime(2025, 3, 8), None,
        None, None, None, None, None, None, None, None, None, None, None, None, None, None, None,
        "ждём цифры",
    ]  # fmt: skip
    sheet = workbook["Размещения"]
    # Text stays text: the creative «=2+2» is not a formula.
    assert sheet.cell(row=3, column=5).data_type == "s"
    assert sheet.cell(row=2, column=7).number_format == "DD.MM.YYYY"
    assert sheet.freeze_panes == "A2"
    summary = [list(r) for r in workbook["Сравнение"].iter_rows(values_only=True)]
    assert summary[0] == [
        "Группировка", "Группа", "Размещений", "Бюджет, ₽", "Просмотры", "Переходы", "Подписки",
        "Цена подписчика, ₽", "Место",
    ]  # fmt: skip
    assert ["Паблик", "Кулинария СПб", 1, 1500.5, 12000, 300, 40, 37.51, None] in summary
    assert ["Паблик", "Мамы; Москвы", 1, 0, 0, 0, 0, None, None] in summary
    assert summary[-1] == ["Всего", None, 2, 1500.5, 12000, 300, 40, 37.51, None]


def test_empty_table_exports_the_header() -> None:
    rows = list(csv.reader(io.StringIO(to_csv([], NORMS).decode("utf-8-sig")), delimiter=";"))
    assert rows == [HEADER]
    workbook = openpyxl.load_workbook(io.BytesIO(to_xlsx([], NORMS)))
    assert [list(r) for r in workbook["Размещения"].iter_rows(values_only=True)] == [HEADER]
    assert len(COLUMNS) == len(HEADER)


def test_filenames_are_ascii() -> None:
    assert filename("csv", date(2025, 3, 10)) == "placements-2025-03-10.csv"
    assert filename("xlsx", date(2025, 3, 10)).isascii()


class _ScannedCells(dict[Any, Any]):
    """A sheet's cell store whose scans are Python steps, so the call counter sees them: a
    writer that looks for the last row (``max_row``) scans every cell written so far."""

    def __iter__(self) -> Iterator[Any]:
        yield from super().__iter__()


def _calls_to_write(rows: int) -> int:
    """Python-level calls (generator steps and cell-store scans included) made while writing
    ``rows`` rows."""
    first = placements()[0]
    table = [first.model_copy(update={"id": n, "number": n}) for n in range(1, rows + 1)]
    calls = 0

    def count(_frame: object, event: str, _arg: object) -> None:
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(count)
    try:
        to_xlsx(table, NORMS)
    finally:
        sys.setprofile(None)
    return calls


def test_xlsx_work_grows_linearly_with_the_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    from openpyxl.worksheet.worksheet import Worksheet

    plain_init = Worksheet.__init__

    def init(self: Worksheet, *args: Any, **kwargs: Any) -> None:
        plain_init(self, *args, **kwargs)
        self._cells = _ScannedCells()

    monkeypatch.setattr(Worksheet, "__init__", init)
    # Counted, not timed: the extra work for 200 more rows is the same as for the first 200
    # (the old cell-by-cell writer scanned every written cell for each new one: three times).
    none, some, more = _calls_to_write(0), _calls_to_write(200), _calls_to_write(400)
    first, second = some - none, more - some
    assert 0.9 <= second / first <= 1.1, (none, some, more)
