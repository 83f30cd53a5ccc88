"""Actions the scenarios run: they read the conversation and the knowledge, and compute advice."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from advisor import formulas
from advisor.contest import check_contest, render_contest_report
from advisor.dialog import fit_actions, payloads
from advisor.dialog.engine import Action, ActionContext
from advisor.dialog.payloads import Open
from advisor.dialog.prices import prices_for_links
from advisor.dialog.render import lower_title, render_verdict
from advisor.dialog.types import Button, DetailButton, Image, Outgoing
from advisor.knowledge.models import ChecklistItem, distinct_advice
from advisor.morph import counted
from advisor.numbers import format_number
from advisor.texts import t
from advisor.verdicts import (
    PlacementStats,
    PublicMetrics,
    judge_placement,
    judge_public,
    shown_figure,
)

if TYPE_CHECKING:
    from advisor.check_budget import CheckBudget
    from advisor.vk.check import PublicResult
    from advisor.vk.fit import OwnerTarget

log = logging.getLogger(__name__)

MAX_LINKS_PER_MESSAGE = 5
# What a check hands to the tracker is kept in the conversation's state: short.
HANDOFF_NAME_CHARS = 100
HANDOFF_LINK_CHARS = 200
NOTHING_TO_COMPARE = "nothing"
REPORT_TOOL = "public_report"
TOOLS = frozenset({REPORT_TOOL})  # commands a button may run at any step
REPORTS_KEPT = MAX_LINKS_PER_MESSAGE  # publics whose full report «Подробнее» can still show


class PublicCheckPort(Protocol):
    """The public check as the dialog needs it (advisor.vk.check.PublicChecker implements it).

    With ``detail``, several publics are answered by a compact summary with a «Подробнее» button
    per public (``detail`` hears each one's full report) instead of every report at once."""

    async def chat_check(
        self,
        links: list[str],
        progress: Callable[[str], Awaitable[None]] | None,
        detail: DetailButton | None = None,
        *,
        target: OwnerTarget | None = None,
        prices: Sequence[float | None] | None = None,
    ) -> tuple[list[PublicResult], list[Outgoing]]: ...

    async def kept_chart(self, group_id: str, target: OwnerTarget | None = None) -> Image | None:
        """A public's chart from the check's cache (no VK request), if it still has it."""


def _reply(text: str) -> list[Outgoing]:
    return [Outgoing(text=text)]


async def profile_summary(ctx: ActionContext) -> list[Outgoing]:
    conv = ctx.conversation
    if not (conv.community_type and conv.goal):
        return []
    kind = ctx.knowledge.community_type(conv.community_type)
    goal = ctx.knowledge.goal(conv.goal)
    lines = [
        t(
            "actions.profile_done",
            community_type=lower_title(kind.title),
            goal=lower_title(goal.title),
        ),
        t("actions.profile_advice_title"),
    ]
    advice = distinct_advice([*kind.advice, *goal.advice])
    lines.extend(f"• {ctx.in_owner_words(line)}" for line in advice)
    return [Outgoing(text="\n".join(lines)), await fit_actions.target_summary(ctx)]


def _todo_order(item: ChecklistItem, community_type: str | None) -> tuple[int, int]:
    mandatory = community_type in item.mandatory_for
    return (0 if mandatory else 1, -item.weight)


async def readiness_todo(ctx: ActionContext) -> list[Outgoing]:
    conv = ctx.conversation
    checklist = ctx.knowledge.checklist("readiness")
    answers = await ctx.store.checklist_answers(conv.user_pk, checklist.id)
    answers.update(
        {
            item: answer
            for (cid, item), answer in conv.checklist_writes.items()
            if cid == checklist.id
        }
    )
    items = [
        item
        for item in checklist.items
        if not item.applies_to or (conv.community_type and conv.community_type in item.applies_to)
    ]
    if not any(item.id in answers for item in items):
        return _reply(t("actions.todo_no_answers"))
    missing = sorted(
        (item for item in items if answers.get(item.id) == "no"),
        key=lambda item: _todo_order(item, conv.community_type),
    )
    unsure = [item for item in items if answers.get(item.id) in (None, "unsure")]
    done = sum(1 for item in items if answers.get(item.id) == "yes")
    total = counted(len(items), t("actions.words.item"), "gent")
    lines = [t("actions.todo_score", done=done, total=total)]
    if not missing and not unsure:
        lines.append(t("actions.todo_all_done"))
        return _reply("\n\n".join(lines))
    if missing:
        todo = [t("actions.todo_title")]
        for number, item in enumerate(missing, start=1):
            entry = t("actions.todo_item", number=number, title=item.title, advice=item.advice)
            if conv.community_type in item.mandatory_for:
                entry += t("actions.todo_mandatory")
            todo.append(entry)
        lines.append("\n".join(todo))
    if unsure:
        check = [t("actions.todo_unsure_title")]
        check.extend(f"• {item.title}. {item.advice}" for item in unsure)
        lines.append("\n".join(check))
    return _reply("\n\n".join(lines))


async def audience_summary(ctx: ActionContext) -> list[Outgoing]:
    questionnaire = ctx.knowledge.questionnaire("audience")
    answers = await ctx.store.questionnaire_answers(ctx.conversation.user_pk, questionnaire.id)
    answers.update(
        {
            question: answer
            for (qid, question), answer in ctx.conversation.questionnaire_writes.items()
            if qid == questionnaire.id
        }
    )
    lines = [t("actions.audience_title")]
    for question in questionnaire.questions:
        answer = answers.get(question.id) or t("actions.audience_no_answer")
        lines.append(t("actions.audience_answer", question=question.title, answer=answer))
    parts = ["\n".join(lines)]
    if questionnaire.where_to_look:
        parts.append(
            "\n".join(
                [
                    t("actions.audience_where_title"),
                    *(f"• {w}" for w in questionnaire.where_to_look),
                ]
            )
        )
    if questionnaire.outro:
        parts.append(questionnaire.outro)
    parts.append(t("actions.audience_next"))
    return _reply("\n\n".join(parts))


def _verdict_heading(label: str) -> str:
    return t(f"actions.verdict_{label}")


async def public_calculator(ctx: ActionContext) -> list[Outgoing]:
    values = ctx.values
    norms = ctx.knowledge.norms
    members = int(values["members"] or 0)
    activities = int(values["activities"] or 0)
    views = values.get("views")
    inactive = values.get("inactive")
    er = formulas.engagement_percent(activities, members)
    reach = formulas.reach_percent(int(views), members) if views is not None else None
    metrics = PublicMetrics(
        members_count=members,
        posts_analyzed=1 if members else 0,
        er_percent=er,
        reach_percent=None,
        ad_posts_analyzed=norms.ad_posts.min_posts if reach is not None else 0,
        ad_reach_percent=reach,
        inactive_percent=inactive,
    )
    verdict = judge_public(metrics, norms)
    lines = [t("actions.calc_title"), t("actions.calc_members", members=format_number(members))]
    if er is not None:
        norm = formulas.engagement_norm_percent(members, norms.engagement)
        key = (
            "actions.calc_er_estimate"
            if formulas.engagement_norm_is_estimate(members, norms.engagement)
            else "actions.calc_er"
        )
        lines.append(t(key, er=shown_figure(er, norm), norm=format_number(norm)))
    # Shares as the reasons below print them, beside the same norms: one rounding per screen.
    if reach is not None:
        shown = shown_figure(reach, norms.reach.min_percent, norms.reach.max_percent)
        lines.append(t("actions.calc_reach", reach=shown))
    if inactive is not None:
        inactive_norm = norms.inactive
        shown = shown_figure(
            inactive, inactive_norm.normal_max_percent, inactive_norm.pointless_from_percent
        )
        lines.append(t("actions.calc_inactive", inactive=shown))
    return _reply("\n".join(lines) + "\n\n" + render_verdict(verdict, _verdict_heading))


def _money(value: float | None) -> str:
    return format_number(value, 2) if value is not None else t("actions.results_not_computed")


def _percent(value: float | None, *limits: float) -> str:
    """A share as the verdict's reasons print it (``shown_figure``): one rounding per screen."""
    return shown_figure(value, *limits) if value is not None else t("actions.results_not_computed")


def _count(value: float | None) -> int | None:
    return int(value) if value is not None else None


async def results_evaluator(ctx: ActionContext) -> list[Outgoing]:
    values = ctx.values
    norms = ctx.knowledge.norms
    budget = values["budget"] or 0.0
    views = int(values["views"] or 0)
    clicks, subscribers = _count(values.get("clicks")), _count(values.get("subscribers"))
    hides, actions = _count(values.get("hides")), _count(values.get("actions"))
    lines = [t("actions.results_title")]
    lines.append(t("actions.results_cpm", value=_money(formulas.cpm(budget, views))))
    if clicks is not None:
        lines.append(t("actions.results_cpc", value=_money(formulas.cpc(budget, clicks))))
        lines.append(t("actions.results_ctr", value=_percent(formulas.ctr_percent(clicks, views))))
    if subscribers is not None:
        cost = formulas.cost_per_subscriber(budget, subscribers)
        lines.append(t("actions.results_cps", value=_money(cost)))
    if hides is not None:
        rate = formulas.hide_rate_percent(hides, views)
        shown = _percent(rate, norms.hide_rate.max_percent)
        lines.append(t("actions.results_hide_rate", value=shown))
    if actions is not None and clicks is not None:
        rate = formulas.conversion_percent(actions, clicks)
        shown = _percent(rate, norms.target_action.min_percent)
        lines.append(t("actions.results_conversion", value=shown))
    stats = PlacementStats(
        views=views,
        hides=hides,
        target_actions=actions,
        clicks=clicks,
        subscribers=subscribers,
        budget_rub=budget,
    )
    verdict = judge_placement(stats, norms)
    # «Записать в учёт» on the next step takes these figures into the tracker's entry.
    ctx.handoff.clear()
    ctx.handoff.update(
        {
            "from": "results",
            "figures": {
                "budget": budget,
                "views": views,
                "clicks": clicks,
                "subscribers": subscribers,
                "hides": hides,
                "actions": actions,
            },
        }
    )
    # The costs are on the lines above; their reasons would only repeat them.
    judged = verdict.model_copy(
        update={"reasons": [r for r in verdict.reasons if r.severity != "info"]}
    )
    parts = ["\n".join(lines), render_verdict(judged, _verdict_heading)]
    parts.append(t("actions.results_no_cost_norm"))
    return _reply("\n\n".join(parts))


async def free_plan(ctx: ActionContext) -> list[Outgoing]:
    subscribers = int(ctx.values["subscribers"] or 0)
    norms = ctx.knowledge.norms
    conv = ctx.conversation
    steps: list[str] = []
    if subscribers < norms.free_board_start_subscribers.value:
        steps.append(t("plan.starter_posts"))
        steps.append(t("plan.empty_group", start=norms.free_board_start_subscribers.value))
    local = conv.goal == "local_subscribers" or conv.community_type == "events"
    steps.append(t("plan.name_keywords") if local else t("plan.name_brand"))
    if conv.goal == "sales_any_region" or conv.community_type == "commercial":
        steps.append(t("plan.search_posts"))
    steps.append(t("plan.mailing"))
    steps.append(t("plan.comments"))
    if subscribers >= norms.free_board_start_subscribers.value:
        around = counted(subscribers, t("actions.words.subscriber"), "gent")
        steps.append(t("plan.mutual_pr", subscribers=around))
        steps.append(t("plan.joint_contest"))
    steps.append(t("plan.stories_clips"))
    if conv.community_type in ("brand", "creative"):
        steps.append(t("plan.hashtags"))
    if conv.community_type == "creative" or conv.goal == "small_active":
        steps.append(t("plan.creative_contest"))
    shown = counted(subscribers, t("actions.words.subscriber"))
    lines = [t("actions.free_plan_title", subscribers=shown)]
    lines.extend(
        t("actions.free_plan_item", number=n, text=ctx.in_owner_words(text))
        for n, text in enumerate(steps, start=1)
    )
    lines.append("")
    lines.append(t("actions.free_plan_combine"))
    return _reply("\n".join(lines))


async def contest_check(ctx: ActionContext) -> list[Outgoing]:
    report = check_contest(ctx.text, ctx.knowledge.contest)
    return _reply(render_contest_report(report))


def _open_button(label_key: str, scenario: str, step: str, **params: object) -> Button:
    return Button(label=t(label_key, **params), payload=payloads.encode(Open(scenario, step)))


def hand_off_check(ctx: ActionContext, results: list[PublicResult]) -> list[list[Button]]:
    """What a check hands on (the publics for the tracker, the links for «Сравнить с …») and
    the buttons that use it; none when no public could be checked."""
    ok = [r for r in results if r.ok and r.group is not None and r.metrics is not None]
    if not ok:
        return []
    publics = []
    for result in ok:
        assert result.group is not None and result.metrics is not None
        metrics = result.metrics
        reach = (
            metrics.ad_reach_percent
            if metrics.ad_reach_percent is not None
            else metrics.reach_percent
        )
        publics.append(
            {
                "name": result.group.name[:HANDOFF_NAME_CHARS],
                "members": result.group.members_count,
                "reach": round(reach, 1) if reach is not None else None,
                "ad_reach": metrics.ad_reach_percent is not None,
            }
        )
    ctx.handoff.clear()
    ctx.handoff.update(
        {"from": "check", "publics": publics, "links": [r.input[:HANDOFF_LINK_CHARS] for r in ok]}
    )
    rows = [[_open_button("actions.check_to_tracker", "tracker", "prefill")]]
    rows.append([_open_button("actions.check_another", "check", "link")])
    if len(ok) < MAX_LINKS_PER_MESSAGE:
        rows.append([_open_button("actions.check_compare", "check", "compare")])
    return rows


def make_public_check(
    checker: PublicCheckPort | None,
    find_links: Callable[[str], list[str]],
    budget: CheckBudget | None = None,
) -> dict[str, Action]:
    async def run(ctx: ActionContext, links: list[str]) -> list[Outgoing]:
        if checker is None:
            log.info("public check asked for, but no VK token is configured")
            return _reply(t("actions.check_not_configured"))
        notes: list[Outgoing] = []
        typed = prices_for_links(ctx.text, links)
        prices = typed.prices
        notes += [Outgoing(text=t("target.price_ignored", reason=r)) for r in typed.problems]
        if len(links) > MAX_LINKS_PER_MESSAGE:
            limit = counted(MAX_LINKS_PER_MESSAGE, t("actions.words.public"), "gent")
            notes += _reply(t("actions.check_too_many", limit=limit, first=MAX_LINKS_PER_MESSAGE))
            links = links[:MAX_LINKS_PER_MESSAGE]
            prices = prices[:MAX_LINKS_PER_MESSAGE]
        if budget is not None:
            conv = ctx.conversation
            allowed = await budget.allow(conv.channel, conv.external_id, len(links))
            if allowed < len(links):
                key = "actions.check_budget_spent" if allowed == 0 else "actions.check_budget_part"
                case = "accs" if allowed == 0 else "gent"  # «проверили 30», «до 30»
                limit = counted(budget.per_hour, t("actions.words.public"), case)
                notes += _reply(t(key, limit=limit, allowed=allowed))
                links = links[:allowed]
                prices = prices[:allowed]
                if not links:
                    return notes
        return notes + await _answer(ctx, checker, links, prices)

    async def public_check(ctx: ActionContext) -> list[Outgoing]:
        links = find_links(ctx.text)
        if not links:
            return _reply(t("actions.check_no_links"))
        return await run(ctx, links)

    async def compare_ask(ctx: ActionContext) -> list[Outgoing]:
        """«Сравнить с …»: which public the next link is compared with."""
        publics = ctx.handoff.get("publics") if ctx.handoff.get("from") == "check" else None
        if not publics:
            ctx.outcome = NOTHING_TO_COMPARE
            return _reply(t("actions.compare_nothing"))
        names = ", ".join(f"«{p.get('name', '')}»" for p in publics)
        return _reply(t("actions.compare_ask", names=names))

    async def public_compare(ctx: ActionContext) -> list[Outgoing]:
        """The link sent after «Сравнить с …»: that public and the ones checked before,
        checked together (one comparison)."""
        links = find_links(ctx.text)
        if not links:
            ctx.refuse(t("actions.check_no_links"))
        before = ctx.handoff.get("links") if ctx.handoff.get("from") == "check" else None
        earlier = [link for link in before or [] if isinstance(link, str)]
        together = list(dict.fromkeys([*earlier, *links]))
        return await run(ctx, together)

    return {
        "public_check": public_check,
        "public_compare_ask": compare_ask,
        "public_compare": public_compare,
    }


def _report_button(ctx: ActionContext, key: str, name: str) -> Button:
    return ctx.tool_button(t("actions.check_more", name=_short(name)), REPORT_TOOL, key)


def make_public_report(checker: PublicCheckPort | None) -> Action:
    async def public_report(ctx: ActionContext) -> list[Outgoing]:
        """«Подробнее» under a check's summary: the public's full report as the dialog kept it,
        with its chart while the check's cache still has the public (no VK request either
        way), and the buttons of the other publics kept (front-ends that show only the latest
        buttons, like the console, can go on to the next report)."""
        key = ctx.answer or ""
        if key not in ctx.state.kept:
            return _reply(t("actions.check_report_gone"))
        _, report = ctx.state.kept[key]
        others = [
            [_report_button(ctx, other, name)]
            for other, (name, _) in ctx.state.kept.items()
            if other != key
        ][-(MAX_LINKS_PER_MESSAGE - 1) :]
        target = await fit_actions.current_target(ctx)
        image = await checker.kept_chart(key, target) if checker is not None else None
        return [Outgoing(text=report, buttons=others, image=image)]

    return public_report


def _short(name: str, limit: int = 40) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


async def _answer(
    ctx: ActionContext,
    checker: PublicCheckPort,
    links: list[str],
    prices: Sequence[float | None],
    *,
    again: bool = False,
) -> list[Outgoing]:
    """The check's answer for the owner's target and prices, then the city question (once) and
    the price offer (when no price came with the links); the links are remembered for
    «Сколько просит админ?»."""
    target = await fit_actions.current_target(ctx)
    given = list(prices) if any(p is not None for p in prices) else None
    reports: dict[str, tuple[str, str]] = {}

    def detail(key: str, name: str, report: str) -> Button:
        reports[key] = (name, report)
        return _report_button(ctx, key, name)

    results, answer = await checker.chat_check(
        links, ctx.progress, detail, target=target, prices=given
    )
    if reports:
        kept = {k: v for k, v in ctx.state.kept.items() if k not in reports} | reports
        ctx.state.kept = dict(list(kept.items())[-REPORTS_KEPT:])
    if again:
        # The same publics a moment ago: their charts are already in the chat.
        answer = [m.model_copy(update={"image": None}) for m in answer]
    analysed = fit_actions.analysed(answer)
    if analysed:
        fit_actions.remember_links(ctx, links)
    extra = fit_actions.city_needed(ctx) if analysed else []
    if analysed and not again and given is None:
        extra += fit_actions.price_offer()
    # Before the admin's message, which stays last (it takes the step's buttons).
    messages = [*answer[:-1], *extra, *answer[-1:]]
    rows = hand_off_check(ctx, results)
    if rows and messages:
        last = messages[-1]
        messages[-1] = last.model_copy(update={"buttons": [*last.buttons, *rows]})
    return messages


def make_public_price(
    checker: PublicCheckPort | None,
    find_links: Callable[[str], list[str]],
    public_check: Action,
) -> Action:
    async def public_price(ctx: ActionContext) -> list[Outgoing]:
        """«Сколько просит админ?»: the last checked publics again (from the cache), priced.
        Links typed here («vk.com/a за 3000») are a new check, as anywhere else."""
        if find_links(ctx.text):
            return await public_check(ctx)
        links = fit_actions.last_links(ctx)
        if not links:
            return _reply(t("target.price_no_check"))
        prices: list[float | None] = list(fit_actions.read_prices(ctx.text, len(links)))
        if checker is None:
            return _reply(t("actions.check_not_configured"))
        return await _answer(ctx, checker, links, prices, again=True)

    return public_price


def build_actions(
    checker: PublicCheckPort | None,
    find_links: Callable[[str], list[str]],
    budget: CheckBudget | None = None,
) -> dict[str, Action]:
    checks = make_public_check(checker, find_links, budget)
    return {
        "profile_summary": profile_summary,
        "readiness_todo": readiness_todo,
        "audience_summary": audience_summary,
        "public_calculator": public_calculator,
        "results_evaluator": results_evaluator,
        "free_plan": free_plan,
        "contest_check": contest_check,
        **checks,
        REPORT_TOOL: make_public_report(checker),
        "public_price": make_public_price(checker, find_links, checks["public_check"]),
        **fit_actions.fit_actions(),
    }
