"""The tracker's dialog commands (scenarios ``tracker`` and ``tr_update`` in
``knowledge/ru/scenarios_tracker.yaml``).

The step-by-step entry is field steps in the scenario file: the engine asks them in order and
keeps the draft; ``advisor/tracker/fields.py`` parses each answer. The commands here fill the
draft from VK after a post link, save it, and serve the table, the row edits and the export.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from advisor import formulas
from advisor.config import Settings
from advisor.dialog.engine import Action, ActionContext
from advisor.dialog.fields import FieldParser
from advisor.dialog.types import Document, Image, Outgoing
from advisor.numbers import format_number
from advisor.texts import t
from advisor.tracker import render
from advisor.tracker.chart import comparison_chart_off_loop
from advisor.tracker.export import FORMATS, Format, export_off_loop, filename
from advisor.tracker.fields import placement_parser, problems_text
from advisor.tracker.models import (
    Draft,
    PostRef,
    Problem,
    StoredPlacement,
    draft_from,
    field_title,
    validate,
)
from advisor.tracker.parsing import confirmation, parse_changes, parse_line
from advisor.tracker.repository import (
    DEFAULT_REMINDER_DAYS,
    PlacementRepository,
    reminder_due_at,
    today_in_moscow,
)
from advisor.tracker.vk_posts import (
    PostFigures,
    PostFiguresError,
    PostFiguresSource,
)

log = logging.getLogger(__name__)

DATA_KEY = "tr"
# Outcomes the commands report; the scenario file says where each leads.
NO_ROW, INVALID, KEPT, PICK = "no_row", "invalid", "kept", "pick"
LABEL_CHARS = 40
KEEP_NAME_CHARS = 100
# The draft's key for the public's post reach from a check (not a column: said once, at saving).
CHECK_REACH = "check_reach"
FIGURE_FIELDS = ("budget", "views", "clicks", "subscribers", "hides", "actions")
_ROW_NUMBER = re.compile(r"^(?:строк[аиу]?|№|#|n)?\s*(\d{1,9})\.?$")

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _reply(*texts: str) -> list[Outgoing]:
    return [Outgoing(text=text) for text in texts if text]


class TrackerActions:
    """The actions, sharing the reminder delay, the VK source and the clock."""

    def __init__(
        self,
        *,
        reminder_days: int = DEFAULT_REMINDER_DAYS,
        figures: PostFiguresSource | None = None,
        clock: Clock = _utcnow,
    ) -> None:
        self.reminder_days = reminder_days
        self.figures = figures
        self.clock = clock

    def actions(self) -> dict[str, Action]:
        return {
            "tracker_home": self.home,
            "tracker_new": self.new,
            "tracker_prefill": self.prefill,
            "tracker_prefill_pick": self.prefill_pick,
            "tracker_from_vk": self.from_vk,
            "tracker_views_note": self.views_note,
            "tracker_save": self.save,
            "tracker_line": self.line,
            "tracker_table": self.table,
            "tracker_pick": self.pick,
            "tracker_pending": self.pending,
            "tracker_change": self.change,
            "tracker_vk_one": self.vk_one,
            "tracker_vk_all": self.vk_all,
            "tracker_delete_ask": self.delete_ask,
            "tracker_delete": self.delete,
            "tracker_delete_answer": self.delete_answer,
            "tracker_report": self.report,
            "tracker_export_info": self.export_info,
            "tracker_export": self.export,
        }

    # --- helpers -------------------------------------------------------------------------------

    def repo(self, ctx: ActionContext) -> PlacementRepository:
        return PlacementRepository(ctx.store.engine, self.reminder_days)

    def today(self) -> date:
        return today_in_moscow(self.clock())

    @staticmethod
    def state(ctx: ActionContext) -> dict[str, Any]:
        return ctx.feature(DATA_KEY)

    async def stored_row(self, ctx: ActionContext) -> StoredPlacement | None:
        number = self.state(ctx).get("row")
        if not isinstance(number, int):
            return None
        return await self.repo(ctx).get(ctx.conversation.user_pk, number)

    def card(self, ctx: ActionContext, row: StoredPlacement) -> Outgoing:
        return Outgoing(text=render.card(row, ctx.knowledge.norms))

    def reminder_note(self, row: StoredPlacement) -> str:
        due = reminder_due_at(row.start, self.reminder_days, self.clock())
        if due is None:
            return ""
        return t("tracker.reminder_set", date=today_in_moscow(due).strftime("%d.%m.%Y"))

    async def fetch_one(self, post: PostRef) -> tuple[PostFigures | None, str]:
        """VK's figures for one post, or the Russian reason there are none."""
        if self.figures is None:
            return None, t("tracker.vk.not_configured")
        try:
            found = await self.figures.fetch([post])
        except PostFiguresError as exc:
            return None, exc.message
        figures = found.get(post.key)
        if figures is None:
            return None, t("tracker.vk.not_found", link=post.link)
        return figures, ""

    # --- home and table ------------------------------------------------------------------------

    async def home(self, ctx: ActionContext) -> list[Outgoing]:
        repo = self.repo(ctx)
        rows = await repo.list(ctx.conversation.user_pk)
        lines = [t("tracker.home", count=len(rows)) if rows else t("tracker.home_empty")]
        pending = await repo.pending_numbers(ctx.conversation.user_pk)
        if pending:
            numbers = ", ".join(f"№{n}" for n in pending)
            lines.append(t("tracker.home_pending", numbers=numbers))
        return _reply("\n\n".join(lines))

    async def table(self, ctx: ActionContext) -> list[Outgoing]:
        rows = await self.repo(ctx).list(ctx.conversation.user_pk)
        return _reply(render.table(rows, ctx.knowledge.norms))

    # --- step-by-step entry --------------------------------------------------------------------

    async def new(self, ctx: ActionContext) -> list[Outgoing]:
        """«Добавить по шагам»: an empty draft (the method is asked first)."""
        ctx.draft.clear()
        return []

    async def prefill(self, ctx: ActionContext) -> list[Outgoing]:
        """«Записать в учёт» after a public check or the results calculator: the draft starts
        with what that tool found, and the entry asks only what is missing."""
        ctx.draft.clear()
        # An old message's button takes only what its own tool handed on.
        wanted = "results" if ctx.conversation.step == "prefill_calc" else "check"
        handoff = ctx.handoff if ctx.handoff.get("from") == wanted else {}
        publics = [p for p in handoff.get("publics") or [] if isinstance(p, dict) and p.get("name")]
        figures = handoff.get("figures")
        if handoff.get("from") == "check" and len(publics) > 1:
            ctx.outcome = PICK
            rows = [
                [ctx.answer_button(_label(f"{n}. {p['name']}"), str(n), step="p_pick")]
                for n, p in enumerate(publics, start=1)
            ]
            listed = [
                t("tracker.prefill.pick_line", number=n, name=p["name"])
                for n, p in enumerate(publics, start=1)
            ]
            text = "\n".join([t("tracker.prefill.pick", count=len(publics)), *listed])
            return [Outgoing(text=text, buttons=rows)]
        if handoff.get("from") == "check" and publics:
            return self.take_public(ctx, publics[0])
        if handoff.get("from") == "results" and isinstance(figures, dict):
            taken = {
                name: value
                for name, value in figures.items()
                if name in FIGURE_FIELDS and isinstance(value, int | float) and value >= 0
            }
            ctx.draft.update(
                {name: (float(v) if name == "budget" else int(v)) for name, v in taken.items()}
            )
            shown = [
                money_text(ctx.draft["budget"])
                if name == "budget"
                else render.figure(name, ctx.draft[name])
                for name in FIGURE_FIELDS
                if name in taken
            ]
            if shown:
                return _reply(t("tracker.prefill.results", figures=", ".join(shown)))
        return _reply(t("tracker.prefill.nothing"))

    async def prefill_pick(self, ctx: ActionContext) -> list[Outgoing]:
        """Which of the checked publics to record: a button, or its number typed."""
        publics = [p for p in ctx.handoff.get("publics") or [] if isinstance(p, dict)]
        raw = ctx.answer if ctx.answer is not None else ctx.text.strip().rstrip(".")
        if not raw.isdigit() or not 1 <= int(raw) <= len(publics):
            ctx.refuse(t("tracker.prefill.pick_again", count=len(publics)))
        return self.take_public(ctx, publics[int(raw) - 1])

    def take_public(self, ctx: ActionContext, public: dict[str, Any]) -> list[Outgoing]:
        ctx.draft.clear()
        ctx.draft["public"] = str(public["name"])[:KEEP_NAME_CHARS]
        members = public.get("members")
        parts = [t("tracker.prefill.public", name=ctx.draft["public"])]
        if isinstance(members, int) and members >= 0:
            ctx.draft["members"] = members
            parts.append(render.figure("members", members))
        reach = public.get("reach")
        if isinstance(reach, int | float) and reach >= 0:
            ctx.draft[CHECK_REACH] = float(reach)
            key = "tracker.prefill.ad_reach" if public.get("ad_reach") else "tracker.prefill.reach"
            parts.append(t(key, reach=format_number(float(reach), 1)))
        return _reply(t("tracker.prefill.check", what=", ".join(parts)))

    async def from_vk(self, ctx: ActionContext) -> list[Outgoing]:
        """After a post link: with VK configured, its figures and the public's name."""
        if not ctx.draft.get("post"):
            return []
        return await self.fill_from_vk(ctx, ctx.draft)

    async def views_note(self, ctx: ActionContext) -> list[Outgoing]:
        """Before the views question: say that VK's count is already in the draft."""
        if not self.state(ctx).get("vk_views") or ctx.draft.get("views") is None:
            return []
        return _reply(t("tracker.views_from_vk", views=render.figure("views", ctx.draft["views"])))

    async def fill_from_vk(self, ctx: ActionContext, draft: Draft) -> list[Outgoing]:
        """With VK configured, a post link brings its views, likes, ... and the public's name."""
        post = PostRef(owner_id=draft["post"][0], post_id=draft["post"][1])
        self.state(ctx).pop("vk_views", None)
        if self.figures is None:
            return []
        figures, problem = await self.fetch_one(post)
        if figures is None:
            if problem != t("tracker.vk.not_found", link=post.link):
                return _reply(problem)  # VK failed: the entry goes on without it
            # The post is gone or hidden: the public and its size still come from VK.
            return [*_reply(problem), *await self.public_from_vk(draft, post)]
        for name, value in figures.counts().items():
            if value is not None:
                draft[name] = value
        if figures.views is not None:
            self.state(ctx)["vk_views"] = True
        shown = render.figures_from_vk(figures)
        notes = _reply(t("tracker.vk.filled", figures=shown)) if shown else []
        if figures.public_name and not draft.get("public"):
            # Taken, not asked: the name can be changed later in «Мои размещения».
            draft["public"] = figures.public_name
            notes += _reply(t("tracker.public_from_vk", name=figures.public_name))
        return notes

    async def public_from_vk(self, draft: Draft, post: PostRef) -> list[Outgoing]:
        """The public of a post VK did not return (``groups.getById``): its name and size."""
        if self.figures is None or draft.get("public"):
            return []
        try:
            name, members = await self.figures.community(post.owner_id)
        except PostFiguresError:
            return []
        if name is None:
            return []
        draft["public"] = name
        if members is None:
            return _reply(t("tracker.public_from_vk", name=name))
        draft["members"] = members
        shown = render.figure("members", members)
        return _reply(t("tracker.public_only_from_vk", name=name, members=shown))

    async def save(self, ctx: ActionContext) -> list[Outgoing]:
        """Reached by a button («Цифр пока нет», «Пропустить» on the last field)."""
        if not ctx.draft:
            return _reply(t("tracker.nothing_to_save"))
        return await self.store_draft(ctx, ctx.draft)

    async def store_draft(self, ctx: ActionContext, entered: Draft) -> list[Outgoing]:
        """Validate and store the draft; on success show the row."""
        draft = {k: v for k, v in entered.items() if v is not None}
        if draft.get("method") == "free" and draft.get("budget") is None:
            draft["budget"] = 0.0
        check_reach = draft.pop(CHECK_REACH, None)
        placement, problems = validate(draft)
        if placement is None:
            return _reply(problems_text(problems), t("tracker.start_again"))
        if full := await self.repo(ctx).full_text(ctx.conversation.user_pk):
            return _reply(full)
        row = await self.repo(ctx).add(ctx.conversation.user_pk, placement, self.clock())
        state = self.state(ctx)
        state.pop("vk_views", None)
        state["row"] = row.number
        saved = t("tracker.saved", number=row.number)
        note = self.reminder_note(row)
        compared = reach_against_check(row, check_reach)
        return [*_reply(saved), self.card(ctx, row), *_reply(compared, note)]

    # --- one-line entry ------------------------------------------------------------------------

    async def line(self, ctx: ActionContext) -> list[Outgoing]:
        parsed = parse_line(ctx.text, self.today())
        if parsed.problems:
            ctx.refuse("\n\n".join([problems_text(parsed.problems), t("tracker.line_again")]))
        draft = {k: v for k, v in parsed.draft.items() if v is not None}
        notes: list[Outgoing] = []
        if draft.get("post") and self.figures is not None:
            typed_views = draft.get("views")
            notes = await self.fill_from_vk(ctx, draft)
            if typed_views is not None:
                # What the person typed (the admin's statistics) wins over VK's counter.
                draft["views"] = typed_views
        if draft.get("method") == "free" and draft.get("budget") is None:
            draft["budget"] = 0.0
        _, problems = validate(draft)
        if problems:
            ctx.outcome = INVALID
            return [*notes, *_reply(problems_text(problems), t("tracker.line_again"))]
        # The next step («saved») stores the draft.
        ctx.draft.clear()
        ctx.draft.update(draft)
        return notes

    # --- picking, changing and deleting a row --------------------------------------------------

    async def pick(self, ctx: ActionContext) -> list[Outgoing]:
        match = _ROW_NUMBER.match(ctx.text.strip().lower())
        if match is None:
            ctx.refuse(problems_text([Problem("number", "bad_number")]))
        number = int(match.group(1))
        row = await self.repo(ctx).get(ctx.conversation.user_pk, number)
        if row is None:
            ctx.refuse(problems_text([Problem("number", "no_row", {"number": str(number)})]))
        self.state(ctx)["row"] = number
        return [self.card(ctx, row)]

    async def pending(self, ctx: ActionContext) -> list[Outgoing]:
        """The reminder's button: the oldest row waiting for numbers, or a row by number."""
        row = await self.repo(ctx).pending_reminder(ctx.conversation.user_pk)
        if row is None:
            ctx.outcome = NO_ROW
            return _reply(t("tracker.no_pending"))
        self.state(ctx)["row"] = row.number
        intro = _reply(t("tracker.pending_intro", number=row.number))
        return [*intro, self.card(ctx, row)]

    async def change(self, ctx: ActionContext) -> list[Outgoing]:
        row = await self.stored_row(ctx)
        if row is None:
            ctx.outcome = NO_ROW
            return _reply(t("tracker.row_gone"))
        parsed = parse_changes(ctx.text, self.today())
        if parsed.problems:
            ctx.refuse(problems_text(parsed.problems))
        draft = draft_from(row)
        for key, value in parsed.draft.items():
            if value is None:
                draft.pop(key, None)
            else:
                draft[key] = value
        placement, problems = validate(draft)
        if placement is None:
            ctx.refuse(problems_text(problems))
        updated = await self.repo(ctx).update(
            ctx.conversation.user_pk, row.number, placement, self.clock()
        )
        if updated is None:
            ctx.outcome = NO_ROW
            return _reply(t("tracker.row_gone"))
        changed = ", ".join(field_title(name).lower() for name in parsed.fields)
        return [
            *_reply(t("tracker.updated", number=row.number, fields=changed)),
            self.card(ctx, updated),
        ]

    async def delete_ask(self, ctx: ActionContext) -> list[Outgoing]:
        row = await self.stored_row(ctx)
        if row is None:
            ctx.outcome = NO_ROW
            return _reply(t("tracker.row_gone"))
        return [self.card(ctx, row), *_reply(t("tracker.delete_ask", number=row.number))]

    async def delete_answer(self, ctx: ActionContext) -> list[Outgoing]:
        """The delete confirmation answered in words: «да» deletes, «нет» keeps the row."""
        number = self.state(ctx).get("row")
        answer = confirmation(ctx.text)
        if answer is None:
            ctx.refuse(t("tracker.confirm_again", number=number if number else ""))
        if answer == "no":
            ctx.outcome = KEPT
            return _reply(t("tracker.kept", number=number)) if isinstance(number, int) else []
        replies = await self.delete(ctx)
        if not isinstance(number, int):
            ctx.outcome = NO_ROW
        return replies

    async def delete(self, ctx: ActionContext) -> list[Outgoing]:
        number = self.state(ctx).pop("row", None)
        if not isinstance(number, int):
            return _reply(t("tracker.row_gone"))
        deleted = await self.repo(ctx).delete(ctx.conversation.user_pk, number)
        return _reply(t("tracker.deleted" if deleted else "tracker.row_gone", number=number))

    # --- VK ------------------------------------------------------------------------------------

    async def vk_one(self, ctx: ActionContext) -> list[Outgoing]:
        row = await self.stored_row(ctx)
        if row is None:
            return _reply(t("tracker.row_gone"))
        if row.post is None:
            return _reply(t("tracker.vk.no_link", number=row.number))
        figures, problem = await self.fetch_one(row.post)
        if figures is None:
            return _reply(problem)
        updated = await self.repo(ctx).set_post_figures(
            ctx.conversation.user_pk, row.number, figures.counts(), self.clock()
        )
        if updated is None:
            return _reply(t("tracker.row_gone"))
        return [*_reply(render.vk_changes(row, updated)), self.card(ctx, updated)]

    async def vk_all(self, ctx: ActionContext) -> list[Outgoing]:
        repo = self.repo(ctx)
        user_pk = ctx.conversation.user_pk
        rows = [row for row in await repo.list(user_pk) if row.post is not None]
        if not rows:
            return _reply(t("tracker.vk.no_links"))
        if self.figures is None:
            return _reply(t("tracker.vk.not_configured"))
        try:
            found = await self.figures.fetch([row.post for row in rows if row.post])
        except PostFiguresError as exc:
            return _reply(exc.message)
        lines = [t("tracker.vk.refreshed_title")]
        for row in rows:
            assert row.post is not None
            figures = found.get(row.post.key)
            if figures is None:
                lines.append(t("tracker.vk.not_found", link=row.post.link))
                continue
            updated = await repo.set_post_figures(
                user_pk, row.number, figures.counts(), self.clock()
            )
            if updated is not None:
                lines.append(render.vk_changes(row, updated))
        return _reply("\n".join(lines))

    # --- report and export ---------------------------------------------------------------------

    async def report(self, ctx: ActionContext) -> list[Outgoing]:
        rows = await self.repo(ctx).list(ctx.conversation.user_pk)
        text = render.report(rows)
        png = await comparison_chart_off_loop(rows) if rows else None
        if png is None:
            if rows:
                text += "\n\n" + t("tracker.no_chart")
            return _reply(text)
        return [Outgoing(text=text, image=Image(png=png, caption=t("tracker.chart.caption")))]

    async def export_info(self, ctx: ActionContext) -> list[Outgoing]:
        # The CLI's «канал:id» is for the operator, never shown in chat.
        return _reply(t("tracker.export_info"))

    async def export(self, ctx: ActionContext) -> list[Outgoing]:
        fmt = (ctx.conversation.step or "").removeprefix("x_")
        if fmt not in FORMATS:
            log.warning("tracker_export on an unknown step %r", ctx.conversation.step)
            return _reply(t("tracker.lost"))
        chosen: Format = "csv" if fmt == "csv" else "xlsx"
        rows = await self.repo(ctx).list(ctx.conversation.user_pk)
        if not rows:
            return _reply(t("tracker.table_empty"))
        data, mime = await export_off_loop(rows, ctx.knowledge.norms, chosen)
        document = Document(filename=filename(chosen, self.today()), data=data, mime=mime)
        text = t(f"tracker.export_done.{chosen}", count=len(rows))
        return [Outgoing(text=text, document=document)]


def _label(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def money_text(value: float) -> str:
    return t("tracker.prefill.budget", money=render.money(value))


def reach_against_check(row: StoredPlacement, check_reach: Any) -> str:
    """This post's reach beside the one the public check measured for the public's posts."""
    if not isinstance(check_reach, int | float) or row.views is None or not row.members:
        return ""
    reach = formulas.reach_percent(row.views, row.members)
    if reach is None:
        return ""
    return t(
        "tracker.prefill.reach_compared",
        reach=format_number(reach, 1),
        check=format_number(float(check_reach), 1),
    )


def tracker_parsers(clock: Clock = _utcnow) -> dict[str, FieldParser]:
    """The tracker's field parsers for the engine (``parser: placement``)."""
    return {"placement": placement_parser(lambda: today_in_moscow(clock()))}


def tracker_actions(
    settings: Settings,
    *,
    reminder_days: int = DEFAULT_REMINDER_DAYS,
    figures: PostFiguresSource | None = None,
    clock: Clock = _utcnow,
) -> dict[str, Action]:
    """The tracker's actions for ``build_actions``. With ``figures`` (``VkPostFigures`` over the
    VK gateway's reader, built by ``Advisor.open``), post links bring their figures from VK."""
    return TrackerActions(reminder_days=reminder_days, figures=figures, clock=clock).actions()
