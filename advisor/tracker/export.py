"""The placements table as CSV and XLSX files.

* CSV is for Excel with Russian settings: UTF-8 with a BOM (without it Excel reads Cyrillic as
  mojibake), «;» between columns, a decimal comma, dates as 01.03.2025, no thousands separators.
  A text cell starting with = + - or @ gets a leading apostrophe, so a spreadsheet shows it as
  text instead of running it as a formula (a public's name can come from VK).
* XLSX (openpyxl) keeps numbers as numbers and dates as dates; a second sheet holds the
  comparison by public, method and creative. Text is always stored as text, never as a formula.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from advisor.knowledge.models import Norms
from advisor.texts import t
from advisor.tracker.models import StoredPlacement, method_title
from advisor.tracker.render import group_title
from advisor.tracker.reports import (
    GROUP_KEYS,
    group_by,
    group_stats,
    placement_metrics,
    placement_verdict,
    rank,
)

Format = Literal["csv", "xlsx"]
FORMATS: tuple[Format, ...] = ("csv", "xlsx")
Kind = Literal["int", "money", "percent", "date", "text"]
MIME: dict[Format, str] = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_XLSX_FORMATS: dict[Kind, str] = {
    "int": "#,##0",
    "money": "#,##0.00",
    "percent": '0.00"%"',
    "date": "DD.MM.YYYY",
    "text": "@",
}
_WIDTHS: dict[Kind, int] = {"int": 12, "money": 13, "percent": 11, "date": 12, "text": 24}


@dataclass(frozen=True)
class Column:
    key: str
    kind: Kind

    @property
    def title(self) -> str:
        return t(f"tracker.columns.{self.key}")


COLUMNS: tuple[Column, ...] = (
    Column("number", "int"),
    Column("post_link", "text"),
    Column("public", "text"),
    Column("method", "text"),
    Column("creative", "text"),
    Column("budget", "money"),
    Column("start", "date"),
    Column("end", "date"),
    Column("views", "int"),
    Column("clicks", "int"),
    Column("subscribers", "int"),
    Column("hides", "int"),
    Column("actions", "int"),
    Column("likes", "int"),
    Column("reposts", "int"),
    Column("comments", "int"),
    Column("members", "int"),
    Column("cpm", "money"),
    Column("cpc", "money"),
    Column("ctr", "percent"),
    Column("cost_per_subscriber", "money"),
    Column("conversion", "percent"),
    Column("hide_rate", "percent"),
    Column("verdict", "text"),
)
SUMMARY_COLUMNS: tuple[Column, ...] = (
    Column("group_by", "text"),
    Column("group", "text"),
    Column("count", "int"),
    Column("budget", "money"),
    Column("views", "int"),
    Column("clicks", "int"),
    Column("subscribers", "int"),
    Column("cost_per_subscriber", "money"),
    Column("rank", "text"),
)


def _round(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


def table_rows(placements: Sequence[StoredPlacement], norms: Norms) -> list[list[Any]]:
    """One list per placement, in ``COLUMNS`` order; ``None`` where nothing is known."""
    rows = []
    for p in placements:
        metrics = placement_metrics(p)
        verdict = placement_verdict(p, norms)
        values = {
            "number": p.number,
            "post_link": p.post.link if p.post else None,
            "public": p.public,
            "method": method_title(p.method),
            "creative": p.creative,
            "budget": p.budget,
            "start": p.start,
            "end": p.end,
            "views": p.views,
            "clicks": p.clicks,
            "subscribers": p.subscribers,
            "hides": p.hides,
            "actions": p.actions,
            "likes": p.likes,
            "reposts": p.reposts,
            "comments": p.comments,
            "members": p.members,
            "cpm": _round(metrics.cpm),
            "cpc": _round(metrics.cpc),
            "ctr": _round(metrics.ctr),
            "cost_per_subscriber": _round(metrics.cost_per_subscriber),
            "conversion": _round(metrics.conversion),
            "hide_rate": _round(metrics.hide_rate),
            "verdict": t(f"tracker.export_verdict.{verdict.verdict if verdict else 'none'}"),
        }
        rows.append([values[column.key] for column in COLUMNS])
    return rows


def summary_rows(placements: Sequence[StoredPlacement]) -> list[list[Any]]:
    """The comparison: every group of every grouping, ranked, plus the totals."""
    rows: list[list[Any]] = []
    for by in GROUP_KEYS:
        ranking = rank(group_by(placements, by))
        for group in [*ranking.ranked, *ranking.unranked]:
            mark = None
            if group is ranking.best:
                mark = t("tracker.rank_best")
            elif group is ranking.worst:
                mark = t("tracker.rank_worst")
            rows.append(
                [
                    t(f"tracker.group_by.{by}"),
                    group_title(group, by),
                    group.count,
                    group.budget,
                    group.views,
                    group.clicks,
                    group.subscribers,
                    _round(group.metrics.cost_per_subscriber),
                    mark,
                ]
            )
    total = group_stats("", "", placements)
    rows.append(
        [
            t("tracker.group_by.total"),
            None,
            total.count,
            total.budget,
            total.views,
            total.clicks,
            total.subscribers,
            _round(total.metrics.cost_per_subscriber),
            None,
        ]
    )
    return rows


# --- CSV ---------------------------------------------------------------------------------------


def csv_cell(value: Any, kind: Kind) -> str:
    if value is None:
        return ""
    if kind == "date":
        return str(value.strftime("%d.%m.%Y"))
    if kind in ("money", "percent"):
        text = f"{value:.2f}".rstrip("0").rstrip(".")
        return text.replace(".", ",")
    if kind == "int":
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def to_csv(placements: Sequence[StoredPlacement], norms: Norms) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow([column.title for column in COLUMNS])
    for row in table_rows(placements, norms):
        writer.writerow(
            [csv_cell(value, column.kind) for value, column in zip(row, COLUMNS, strict=True)]
        )
    return buffer.getvalue().encode("utf-8-sig")


# --- XLSX --------------------------------------------------------------------------------------


def _fill_sheet(sheet: Any, columns: Sequence[Column], rows: list[list[Any]]) -> None:
    """Writes a write-only sheet row by row: each cell is made once and appended, so the work
    grows with the number of cells (looking up ``max_row`` per cell made it quadratic)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    # Set before the first row: a write-only sheet writes these out when it starts.
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _WIDTHS[column.kind]
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    formats = [_XLSX_FORMATS[column.kind] for column in columns]
    texts = [column.kind == "text" for column in columns]
    for row in rows:
        cells = []
        for value, number_format, text in zip(row, formats, texts, strict=True):
            cell = WriteOnlyCell(sheet, value=value)
            if value is not None and text:
                # openpyxl turns a string starting with «=» into a formula; a name is text.
                cell.data_type = "s"
            cell.number_format = number_format
            cells.append(cell)
        sheet.append(cells)


def to_xlsx(placements: Sequence[StoredPlacement], norms: Norms) -> bytes:
    # Imported here: openpyxl costs almost half a second at import, paid by every process start
    # although few people ever export.
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    _fill_sheet(
        workbook.create_sheet(t("tracker.sheet_table")), COLUMNS, table_rows(placements, norms)
    )
    _fill_sheet(
        workbook.create_sheet(t("tracker.sheet_summary")), SUMMARY_COLUMNS, summary_rows(placements)
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export(placements: Sequence[StoredPlacement], norms: Norms, fmt: Format) -> tuple[bytes, str]:
    """The file's bytes and its MIME type."""
    data = to_csv(placements, norms) if fmt == "csv" else to_xlsx(placements, norms)
    return data, MIME[fmt]


async def export_off_loop(
    placements: Sequence[StoredPlacement], norms: Norms, fmt: Format
) -> tuple[bytes, str]:
    """``export`` in a worker thread: a big table takes a while to write, and everyone else's
    turns go on meanwhile (at most ``repository.MAX_ROWS_PER_PERSON`` rows a person)."""
    return await asyncio.to_thread(export, placements, norms, fmt)


def filename(fmt: Format, today: date) -> str:
    # ASCII, so every chat client and file system keeps the name as is.
    return f"placements-{today.isoformat()}.{fmt}"
