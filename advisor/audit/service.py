"""«Проверь мою группу»: a link in, an ``AuditResult`` out. Nothing raises; errors are results.

``Auditor.audit`` parses the link (``advisor.vk.links``), reads the community with the public
check's VK client and error codes (``fetch``), and judges it (``readiness``, ``search``,
``content``, ``score``). Results are not cached: an owner fixes the group and asks again, and
must see the fix at once.

The ``Auditor`` reads with the VK gateway's reader client (``advisor.vk.gateway``), the one the
public check and the tracker use: every call made with that token shares its rate limiter. The
gateway owns the client and closes it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from advisor.audit.content import ContentFindings, analyse_content
from advisor.audit.fetch import CollectError, CommunityData, VkUnavailable, fetch_community
from advisor.audit.readiness import Facts, Seen, Status, judge, merge_answers, one_format
from advisor.audit.result import (
    AuditResult,
    ContentOut,
    FormatOut,
    GroupOut,
    ItemOut,
    SearchOut,
    SuggestionOut,
    error_result,
)
from advisor.audit.rules import AuditRules, ItemRule, checklist_items, load_rules
from advisor.audit.score import compute_score, formats_todo, is_mandatory, todo_list
from advisor.audit.search import analyse_search, hashtags_for
from advisor.config import Settings
from advisor.knowledge.loader import load_knowledge
from advisor.knowledge.models import Knowledge
from advisor.morph import counted
from advisor.texts import t
from advisor.vk.links import LinkError, PublicRef, parse_link

if TYPE_CHECKING:
    from advisor.vk.api import VkClient

log = logging.getLogger(__name__)

Progress = Callable[[str], Awaitable[None]]


def error_message(code: str, problem: str | None, what: str) -> str:
    if code == "not_a_community":
        return t(f"audit.errors.{problem if problem in ('person', 'app') else 'person'}")
    if problem == "deleted":
        return t("audit.errors.deleted", what=what)
    return t(f"audit.errors.{code}", what=what)


def tailored_advice(knowledge: Knowledge, topic_id: str, keys: Sequence[str]) -> str | None:
    topic = knowledge.topic(topic_id)
    lines = [topic.tailored[key] for key in keys if key in topic.tailored]
    return " ".join(lines) or None


def item_tailored(
    item_id: str,
    statuses: Mapping[str, Status],
    knowledge: Knowledge,
    rules: AuditRules,
    keys: Sequence[str],
) -> str | None:
    """The guide's advice for the type (or goal) that goes with a not-done item, without any
    sentence about an item already done (the commercial cover-and-goods sentence is not shown
    once the goods are there)."""
    if statuses.get(item_id) == "ok":
        return None

    def about(rule: ItemRule) -> list[str]:
        carried = knowledge.topic(rule.topic).tailored
        return list(carried) if rule.tailored is None else rule.tailored

    done = {
        (rule.topic, key)
        for rule in rules.items
        if statuses.get(rule.id) == "ok"
        for key in about(rule)
    }
    rule = rules.item(item_id)
    topic = knowledge.topic(rule.topic)
    lines = [
        topic.tailored[key]
        for key in keys
        if key in topic.tailored and key in about(rule) and (rule.topic, key) not in done
    ]
    return " ".join(lines) or None


def content_suggestions(
    content: ContentFindings, knowledge: Knowledge, rules: AuditRules, keys: Sequence[str]
) -> list[SuggestionOut]:
    cr = rules.content
    out: list[SuggestionOut] = []
    if content.stale and content.days_since_last_post is not None:
        days = counted(content.days_since_last_post, t("audit.report.day_word"))
        text = t("audit.content.stale", days=days)
        out.append(SuggestionOut(id="stale", text=text, section=cr.stale_section))
    if content.best_format is not None:
        out.append(
            SuggestionOut(
                id="best_format",
                text=t("audit.content.best", format=t(f"audit.formats.{content.best_format}")),
                section=cr.best_format_section,
            )
        )

    def from_topic(suggestion_id: str, lead: str, topic_id: str) -> SuggestionOut:
        topic = knowledge.topic(topic_id)
        extra = tailored_advice(knowledge, topic_id, keys)
        text = " ".join(part for part in (lead, topic.summary, extra) if part)
        return SuggestionOut(id=suggestion_id, text=text, section=topic.section)

    for absent in cr.when_absent:
        if absent.format in content.absent:
            lead = t("audit.content.absent", format=t(f"audit.formats.{absent.format}"))
            out.append(from_topic(f"no_{absent.format}", lead, absent.topic))
    for topic_id in cr.always_topics:
        out.append(from_topic(topic_id, t(f"audit.content.always.{topic_id}"), topic_id))
    return out


def evaluate(
    data: CommunityData,
    *,
    input_text: str,
    knowledge: Knowledge,
    rules: AuditRules,
    community_type: str | None = None,
    goal: str | None = None,
    phrases: Sequence[str] = (),
    city: str | None = None,
    answers: Mapping[str, str] | None = None,
) -> AuditResult:
    """Judge collected data: pure, so tests can feed it any community."""
    group = data.group
    content = analyse_content(
        data.posts,
        owner_id=group.owner_id,
        members=group.members_count,
        fetched_at=data.fetched_at,
        rules=rules.content,
    )
    search = analyse_search(
        group.name,
        data.description,
        city=city or data.city,
        owner_phrases=phrases,
        activity=data.activity,
        rules=rules.search,
    )
    tags = hashtags_for(
        group.screen_name,
        community_type,
        [tag for post in data.posts for tag in post.hashtags],
        rules.hashtags,
    )
    facts = Facts(data=data, content=content, search=search, rules=rules, norms=knowledge.norms)
    checklist = knowledge.checklist(rules.checklist)
    items = checklist_items(checklist, community_type)
    seen: dict[str, Seen] = merge_answers(
        {item.id: judge(item.id, facts) for item in items}, answers or {}
    )
    statuses = {item_id: found.status for item_id, found in seen.items()}
    all_types = [kind.id for kind in knowledge.community_types]
    score = compute_score(
        items, statuses, rules, community_type=community_type, all_types=all_types
    )
    keys = [key for key in (community_type, goal) if key]
    item_outs = []
    for item in items:
        found = seen[item.id]
        rule = rules.item(item.id)
        item_outs.append(
            ItemOut(
                id=item.id,
                title=item.title,
                status=found.status,
                evidence=found.evidence,
                source=found.source,
                advice=None if found.status == "ok" else item.advice,
                question=item.question if found.status == "unknown" else None,
                tailored=item_tailored(item.id, statuses, knowledge, rules, keys),
                points=rule.points,
                mandatory=is_mandatory(item, community_type, all_types),
            )
        )
    todo = todo_list(
        items,
        statuses,
        rules,
        community_type=community_type,
        all_types=all_types,
        extra=formats_todo(one_format(facts)),
    )
    return AuditResult(
        input=input_text,
        group=GroupOut(
            id=group.id,
            screen_name=group.screen_name,
            name=group.name,
            members_count=group.members_count,
            city=data.city,
            activity=data.activity,
        ),
        community_type=community_type,
        goal=goal,
        score=score.value,
        score_cap=rules.score.mandatory_missing_cap if score.blocked else None,
        items=item_outs,
        search=SearchOut(
            phrases=search.phrases,
            phrase_source=search.phrase_source,
            city=search.city,
            name_has_phrase=search.name_has_phrase,
            name_has_city=search.name_has_city,
            name_has_person=search.name_has_person,
            description_has_phrase=search.description_has_phrase,
            description_has_city=search.description_has_city,
            suggested_names=search.suggested_names,
            hashtag=tags.main,
            hashtag_alternatives=tags.alternatives,
            hashtags_in_use=tags.in_use,
            general_hashtags=tags.general,
            default_address=tags.default_address,
        ),
        content=ContentOut(
            posts_analyzed=content.posts_analyzed,
            formats=[
                FormatOut(
                    format=s.format,
                    posts=s.posts,
                    share_percent=s.share_percent,
                    mean_activities=s.mean_activities,
                    er_percent=s.er_percent,
                )
                for s in content.formats
            ],
            posts_per_week=content.posts_per_week,
            days_since_last_post=content.days_since_last_post,
            best_format=content.best_format,
            suggestions=content_suggestions(content, knowledge, rules, keys),
        ),
        todo=todo,
        vk_requests=data.requests,
        fetched_at=datetime.fromtimestamp(data.fetched_at, UTC),
        description=data.description,
    )


class Auditor:
    """Audits communities with ``client``, the VK gateway's reader (``VkGateway.reader``, the
    token the public check uses: user, else service). None: no token is set."""

    def __init__(
        self,
        settings: Settings,
        client: VkClient | None,
        knowledge: Knowledge | None = None,
        rules: AuditRules | None = None,
    ) -> None:
        self.settings = settings
        self.knowledge = knowledge or load_knowledge()
        self.rules = rules or load_rules()
        self._client = client

    @property
    def configured(self) -> bool:
        return self._client is not None

    async def _fetch(self, ref: PublicRef) -> CommunityData:
        assert self._client is not None
        return await fetch_community(self._client, ref, self.rules.thresholds.recent_posts)

    async def audit(
        self,
        text: str,
        *,
        community_type: str | None = None,
        goal: str | None = None,
        phrases: Sequence[str] = (),
        city: str | None = None,
        answers: Mapping[str, str] | None = None,
        progress: Progress | None = None,
    ) -> AuditResult:
        try:
            ref = parse_link(text)
        except LinkError as exc:
            log.info("audit: %s for input %r", exc.problem, text[:100])
            # A person's or an app's page gets the audit's words; the other link problems say
            # what to paste, which is the same for any community.
            message = exc.message
            if exc.code == "not_a_community":
                message = error_message(exc.code, exc.problem, "")
            return error_result(text, exc.code, message)
        if self._client is None:
            log.error("audit: no VK token configured (VK_USER_TOKEN or VK_SERVICE_TOKEN)")
            return error_result(text, "misconfigured", t("audit.errors.no_token"))
        what = ref.display
        await _say(progress, t("audit.progress", what=what))
        started = time.perf_counter()
        try:
            data = await self._fetch(ref)
        except CollectError as exc:
            log.info("audit: %s → %s (%s)", ref.key, exc.code, exc.detail)
            return error_result(text, exc.code, error_message(exc.code, exc.problem, what))
        except VkUnavailable as exc:
            log.warning("audit: VK unavailable for %s (%s)", ref.key, exc.cause)
            message = error_message("vk_unavailable", None, what)
            return error_result(text, "vk_unavailable", message)
        except Exception:
            log.exception("audit: unexpected failure for %s", ref.key)
            return error_result(text, "vk_unavailable", t("audit.errors.internal", what=what))
        try:
            result = evaluate(
                data,
                input_text=text,
                knowledge=self.knowledge,
                rules=self.rules,
                community_type=community_type,
                goal=goal,
                phrases=phrases,
                city=city,
                answers=answers,
            )
        except Exception:
            log.exception("audit: judging %s failed", ref.key)
            return error_result(text, "vk_unavailable", t("audit.errors.internal", what=what))
        log.info(
            "audit: %s → score %s in %.2fs, %d VK requests",
            ref.key,
            result.score,
            time.perf_counter() - started,
            data.requests,
        )
        return result


async def _say(progress: Progress | None, text: str) -> None:
    if progress is None:
        return
    try:
        await progress(text)
    except Exception:  # a progress line is a courtesy; it never stops the audit
        log.warning("audit: progress callback failed", exc_info=True)
