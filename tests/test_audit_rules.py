"""The audit's data (advisor/audit/rules.yaml) and its formulas: score weights, cap, to-do order."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from advisor.audit.readiness import Status
from advisor.audit.rules import (
    AuditRulesError,
    checklist_items,
    load_rules,
    parse_rules,
    validate_against,
)
from advisor.audit.score import compute_score, impact, is_mandatory, todo_list
from advisor.knowledge.guide import find_guide, guide_headings
from advisor.knowledge.loader import load_knowledge

RULES = load_rules()
KNOWLEDGE = load_knowledge()
CHECKLIST = KNOWLEDGE.checklist("readiness")
TYPES = [kind.id for kind in KNOWLEDGE.community_types]
RULES_PATH = Path(__file__).resolve().parents[1] / "advisor/audit/rules.yaml"


def raw_rules() -> dict:
    return yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


# --- the data --------------------------------------------------------------------------------


def test_every_cited_section_is_a_guide_heading() -> None:
    headings = guide_headings(find_guide().read_text(encoding="utf-8"))
    bad = [section for section in RULES.sections() if section not in headings]
    assert not bad, f"rules.yaml cites sections that are not guide headings: {bad}"


def test_items_are_the_checklists_and_points_sum_to_100() -> None:
    assert sorted(rule.id for rule in RULES.items) == sorted(i.id for i in CHECKLIST.items)
    assert sum(rule.points for rule in RULES.items) == 100


def test_points_follow_the_checklists_impact_order() -> None:
    # The audit's points and the dialog's weights rank items alike, except where the audit has
    # a documented reason: the never-visible items score low (an unknown item gets half anyway).
    never_visible = {rule.id for rule in RULES.items if not rule.vk_fields}
    assert never_visible == {"interactive_menu", "audience_portrait"}
    visible = [i for i in CHECKLIST.items if i.id not in never_visible]
    by_weight = sorted(visible, key=lambda i: -i.weight)
    points = [RULES.item(i.id).points for i in by_weight]
    assert points[0] == max(points)  # the heaviest checklist item is the heaviest here
    assert RULES.item("starter_posts").points == max(r.points for r in RULES.items)


def test_the_readiness_norm_is_the_knowledge_bases() -> None:
    # The «3–5 posts» threshold is not duplicated here: the audit reads norms.readiness_posts.
    assert "min_posts" not in RULES.thresholds.model_dump()
    assert KNOWLEDGE.norms.readiness_posts.min_count == 3


def test_rules_must_name_the_checklist_items(tmp_path: Path) -> None:
    data = raw_rules()
    data["items"] = data["items"][:-1]
    rules = parse_rules(write(tmp_path, data))
    with pytest.raises(AuditRulesError, match="must be the checklist's items"):
        validate_against(rules, KNOWLEDGE)


def test_rules_must_name_known_topics(tmp_path: Path) -> None:
    data = raw_rules()
    data["content"]["always_topics"] = ["no_such_topic"]
    rules = parse_rules(write(tmp_path, data))
    with pytest.raises(AuditRulesError, match="no_such_topic"):
        validate_against(rules, KNOWLEDGE)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("score", "unknown_credit"), 2, "unknown_credit"),
        (("search", "name_patterns"), ["{city}"], "has no {phrase}"),
        (("search", "name_patterns"), ["{phrase} {street}"], "street"),
        (("content", "formats"), ["clip", "video"], "formats"),
        (("hashtags", "rubrics"), {"default": ["Полезный совет"]}, "not a valid hashtag"),
    ],
)
def test_malformed_rules_name_the_field(
    tmp_path: Path, path: tuple[str, str], value: object, message: str
) -> None:
    data = raw_rules()
    data[path[0]][path[1]] = value
    with pytest.raises(AuditRulesError, match=message) as caught:
        parse_rules(write(tmp_path, data))
    assert "rules.yaml" in str(caught.value)


# --- the score -------------------------------------------------------------------------------


def score_of(statuses: dict[str, Status], community_type: str | None = "commercial") -> int:
    items = checklist_items(CHECKLIST, community_type)
    full = {i.id: statuses.get(i.id, "ok") for i in items}
    return compute_score(items, full, RULES, community_type=community_type, all_types=TYPES).value


def test_score_all_done_is_100_and_all_missing_is_0() -> None:
    assert score_of({}) == 100
    assert score_of({i.id: "missing" for i in CHECKLIST.items}) == 0


@pytest.mark.parametrize("item", [rule.id for rule in RULES.items if rule.id != "starter_posts"])
def test_each_missing_item_costs_its_points(item: str) -> None:
    # A brand has all 10 items and only the posts are mandatory: the points are the score.
    assert score_of({item: "missing"}, "brand") == 100 - RULES.item(item).points


def test_unknown_counts_half() -> None:
    credit = RULES.score.unknown_credit
    points = RULES.item("interactive_menu").points + RULES.item("audience_portrait").points
    expected = round(100 - points * (1 - credit))
    assert score_of({"interactive_menu": "unknown", "audience_portrait": "unknown"}) == expected


def test_mandatory_missing_caps_the_score() -> None:
    cap = RULES.score.mandatory_missing_cap
    assert score_of({"starter_posts": "missing"}) == cap  # 80 without the cap
    assert score_of({"goods": "missing"}, "commercial") == min(88, cap)
    # Goods are mandatory for a commercial group only: a brand loses just the points.
    assert score_of({"goods": "missing"}, "brand") == 88


def test_score_is_renormalised_when_an_item_does_not_apply() -> None:
    # A creative community has no goods item: 88 points in all, one missing cover costs 14/88.
    assert score_of({"cover": "missing"}, "creative") == round(100 * (88 - 14) / 88)


def test_mandatory_without_a_type() -> None:
    starter = next(i for i in CHECKLIST.items if i.id == "starter_posts")
    goods = next(i for i in CHECKLIST.items if i.id == "goods")
    assert is_mandatory(starter, None, TYPES)  # mandatory for every type
    assert not is_mandatory(goods, None, TYPES)
    assert is_mandatory(goods, "commercial", TYPES)


def test_todo_order_is_by_impact_mandatory_first() -> None:
    items = checklist_items(CHECKLIST, "commercial")
    statuses: dict[str, Status] = {i.id: "ok" for i in items}
    statuses |= {
        "cover": "missing",  # 14
        "interactive_menu": "missing",  # 4
        "goods": "missing",  # 12, mandatory for commercial
        "audience_portrait": "unknown",  # 6 × 0.5 = 3
        "links_contacts": "missing",  # 8
    }
    todo = todo_list(items, statuses, RULES, community_type="commercial", all_types=TYPES)
    assert [e.id for e in todo] == [
        "goods",
        "cover",
        "links_contacts",
        "interactive_menu",
        "audience_portrait",
    ]
    total = sum(RULES.item(i.id).points for i in items)
    cover = next(i for i in items if i.id == todo[1].id)
    assert todo[1].gain == pytest.approx(impact(cover, "missing", RULES, total)) == 14
    assert todo[-1].gain == pytest.approx(3)


def test_todo_is_short() -> None:
    items = checklist_items(CHECKLIST, "commercial")
    statuses: dict[str, Status] = {i.id: "missing" for i in items}
    todo = todo_list(items, statuses, RULES, community_type="commercial", all_types=TYPES)
    assert len(todo) == RULES.score.todo_limit
