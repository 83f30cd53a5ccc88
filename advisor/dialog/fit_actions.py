"""The dialog's side of a public's fit: the owner's target (asked, stored, shown, edited) and
the price an admin asks, handed to the public check.

The target lives in the profile (the ``users`` row); what the chat remembers between turns
(the last checked links, «the city was asked») lives in the lasting ``fit`` feature.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from advisor.dialog import payloads
from advisor.dialog.engine import Action, ActionContext
from advisor.dialog.fields import FieldParser, Refused
from advisor.dialog.payloads import Open
from advisor.dialog.prices import PriceRefused, parse_prices
from advisor.dialog.render import lower_title
from advisor.dialog.target import (
    LOCAL_GOALS,
    StoredTarget,
    owner_target,
    parse_city,
    parse_my_group,
    parse_sex_age,
    sex_age_text,
)
from advisor.dialog.types import Button, Outgoing
from advisor.storage.store import Conversation
from advisor.texts import t
from advisor.vk.fit import OwnerTarget
from advisor.vk.links import extract_links

log = logging.getLogger(__name__)

FEATURE = "fit"
PROFILE = "profile"
CHECK = "check"
CITY_STEP = "edit_city"
PROFILE_START = "type"
AUDIENCE_STEP = "audience"
MY_GROUP_STEP = "my_group"
PRICE_STEP = "price"
PORTRAIT_QUESTIONNAIRE = "audience"
PORTRAIT_SEX_AGE = "sex_age"


def _open_button(label: str, scenario: str, step: str) -> Button:
    return Button(label=label, payload=payloads.encode(Open(scenario, step)))


def _reply(text: str, buttons: list[list[Button]] | None = None) -> list[Outgoing]:
    return [Outgoing(text=text, buttons=buttons or [])]


# --- field parsers ------------------------------------------------------------------------------


def _city_field(text: str, store: str, draft: Mapping[str, Any]) -> dict[str, Any]:
    if extract_links(text):
        raise Refused(t("target.city_is_a_link"))
    return {store: parse_city(text)}


def _audience_field(text: str, store: str, draft: Mapping[str, Any]) -> dict[str, Any]:
    parsed = parse_sex_age(text)
    if parsed is None:
        raise Refused(t("target.audience_unreadable"))
    return {store: {"sex": parsed.sex, "min": parsed.age_min, "max": parsed.age_max}}


def _group_field(text: str, store: str, draft: Mapping[str, Any]) -> dict[str, Any]:
    return {store: parse_my_group(text)}


def fit_parsers() -> dict[str, FieldParser]:
    return {"city": _city_field, "target_audience": _audience_field, "my_group": _group_field}


# --- the target in the profile ------------------------------------------------------------------


def _asked(ctx: ActionContext) -> dict[str, Any]:
    return ctx.feature(FEATURE)


async def target_route(ctx: ActionContext) -> list[Outgoing]:
    """After the goal: a local goal without a city asks the city — once."""
    conv = ctx.conversation
    if conv.goal in LOCAL_GOALS and not conv.target_city and not _asked(ctx).get("city"):
        ctx.outcome = "ask_city"
    return []


async def save_city(ctx: ActionContext) -> list[Outgoing]:
    city = ctx.draft.pop("city", None)
    _asked(ctx)["city"] = True
    if city is None:
        conv = ctx.conversation
        if conv.target_city:
            return _reply(t("target.city_kept", city=conv.target_city))
        return _reply(t("target.city_skipped"))
    ctx.conversation.target_city = city
    return _reply(t("target.city_saved", city=city))


async def save_audience(ctx: ActionContext) -> list[Outgoing]:
    value = ctx.draft.pop("audience", None)
    if value is None:
        return _reply(t("target.audience_skipped"))
    conv = ctx.conversation
    conv.target_sex, conv.target_age_min, conv.target_age_max = (
        value.get("sex"),
        value.get("min"),
        value.get("max"),
    )
    who = sex_age_text(conv.target_sex, conv.target_age_min, conv.target_age_max)
    return _reply(t("target.audience_saved", who=who) if who else t("target.audience_all"))


async def save_group(ctx: ActionContext) -> list[Outgoing]:
    link = ctx.draft.pop("my_group", None)
    if link is None:
        return _reply(t("target.my_group_skipped"))
    ctx.conversation.community_link = link
    return _reply(t("target.my_group_saved", link=link))


async def _portrait_sex_age(ctx: ActionContext) -> str | None:
    conv = ctx.conversation
    pending = conv.questionnaire_writes.get((PORTRAIT_QUESTIONNAIRE, PORTRAIT_SEX_AGE))
    if pending is not None:
        return pending
    answers = await ctx.store.questionnaire_answers(conv.user_pk, PORTRAIT_QUESTIONNAIRE)
    return answers.get(PORTRAIT_SEX_AGE)


def _stored(conv: Conversation) -> StoredTarget:
    return StoredTarget(
        goal=conv.goal,
        city=conv.target_city,
        sex=conv.target_sex,
        age_min=conv.target_age_min,
        age_max=conv.target_age_max,
        my_group=conv.community_link,
    )


async def current_target(ctx: ActionContext) -> OwnerTarget:
    """The owner's target for a check, from the stored profile (and the portrait's answer)."""
    return owner_target(_stored(ctx.conversation), await _portrait_sex_age(ctx))


async def target_summary(ctx: ActionContext) -> Outgoing:
    """The target as the profile shows it (the profile's last step has the buttons that edit
    it; their labels typed work too)."""
    conv = ctx.conversation
    target = await current_target(ctx)
    lines = [t("target.summary_title")]
    if conv.target_city:
        key = "summary_city_local" if target.local_goal else "summary_city"
        lines.append(t(f"target.{key}", city=conv.target_city))
    else:
        lines.append(t("target.summary_city_none"))
    own = sex_age_text(conv.target_sex, conv.target_age_min, conv.target_age_max)
    portrait = sex_age_text(target.sex, target.age_min, target.age_max)
    if own:
        lines.append(t("target.summary_who", who=own))
    elif portrait:
        lines.append(t("target.summary_who_portrait", who=portrait))
    else:
        lines.append(t("target.summary_who_none"))
    if conv.community_link:
        lines.append(t("target.summary_group", link=conv.community_link))
    else:
        lines.append(t("target.summary_group_none"))
    return Outgoing(text="\n".join(lines))


def city_needed(ctx: ActionContext) -> list[Outgoing]:
    """A check for a local goal without a city: say so and offer to set it (asked once)."""
    conv = ctx.conversation
    if conv.goal not in LOCAL_GOALS or conv.target_city or _asked(ctx).get("city"):
        return []
    _asked(ctx)["city"] = True
    button = _open_button(t("target.button_city_set"), PROFILE, CITY_STEP)
    return _reply(t("target.city_needed"), [[button]])


def analysed(answer: list[Outgoing]) -> bool:
    """Whether a check's answer analysed some public: then it ends with the admin's message
    after a report (two messages at least); a check that only failed says so in one."""
    return len(answer) >= 2


def price_offer() -> list[Outgoing]:
    """«Сколько просит админ?» after a result: its button opens the price question."""
    button = _open_button(t("target.price_button"), CHECK, PRICE_STEP)
    return [Outgoing(text=t("target.price_offer"), buttons=[[button]])]


def remember_links(ctx: ActionContext, links: list[str]) -> None:
    _asked(ctx)["links"] = list(links)


def last_links(ctx: ActionContext) -> list[str]:
    links = _asked(ctx).get("links")
    return [str(link) for link in links] if isinstance(links, list) else []


async def target_summary_step(ctx: ActionContext) -> list[Outgoing]:
    return [await target_summary(ctx)]


async def owner_profile(ctx: ActionContext) -> list[Outgoing]:
    """«Что ты обо мне знаешь?»: the community type and goal, the customers as the fit sees
    them, and buttons that change each."""
    conv, knowledge = ctx.conversation, ctx.knowledge
    lines = [t("owner.profile_title")]
    if conv.community_type:
        title = knowledge.community_type(conv.community_type).title
        lines.append(t("owner.profile_type", value=lower_title(title)))
    else:
        lines.append(t("owner.profile_type_none"))
    if conv.goal:
        lines.append(t("owner.profile_goal", value=lower_title(knowledge.goal(conv.goal).title)))
    else:
        lines.append(t("owner.profile_goal_none"))
    customers = await target_summary(ctx)
    buttons = [
        [_open_button(t("owner.button_profile"), PROFILE, PROFILE_START)],
        [
            _open_button(t("owner.button_city"), PROFILE, CITY_STEP),
            _open_button(t("owner.button_audience"), PROFILE, AUDIENCE_STEP),
        ],
        [_open_button(t("owner.button_group"), PROFILE, MY_GROUP_STEP)],
    ]
    return [
        Outgoing(text="\n".join(lines)),
        Outgoing(text=f"{customers.text}\n\n{t('owner.profile_hint')}", buttons=buttons),
    ]


def fit_actions() -> dict[str, Action]:
    return {
        "target_summary": target_summary_step,
        "owner_profile": owner_profile,
        "target_route": target_route,
        "save_target_city": save_city,
        "save_target_audience": save_audience,
        "save_my_group": save_group,
    }


def read_prices(text: str, count: int) -> list[float]:
    """Typed prices for the last checked publics, or ``Refused`` with the reason."""
    try:
        return parse_prices(text, count)
    except PriceRefused as refused:
        log.info("price refused: %s", refused.message[:60])
        raise
