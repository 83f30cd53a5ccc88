"""Issue 15: «worth it for MY business?» — the fit figures of the public check against values
computed here, independently, from the fake VK API's generated members and posts.

Read whole, every figure is within ±0.15 pp; sampled, the true share (from the whole list) lies
inside the reported 95% interval. The portrait costs no VK request; the overlap's requests are
counted for both token kinds.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from statistics import median
from typing import Any

import pytest

from advisor.texts import t
from advisor.vk.check import PublicResult, rank_results
from advisor.vk.fit import AGE_BANDS, OwnerTarget
from tests.fakes.vk_api import FakeVK, VKRequest
from tests.fakes.vk_data import DAY, PostSpec, PublicSpec
from tests.fakes.vk_objects import user_object
from tests.test_public_check import checker_for, cli_env, round_trips, run_cli, wall

FIELDS = ("last_seen", "sex", "bdate", "city")
TOLERANCE = 0.15  # percentage points, read whole
MY_ID = 390_001
CONTRACT_KEYS = {"audience", "ad_load", "er_views_percent", "overlap", "price"}
AUDIENCE_KEYS = {
    "active_sampled",
    "female_percent",
    "age_percent",
    "top_cities",
    "city_percent",
    "target_percent",
    "target_ci95",
}

# A St Petersburg flea market: few members from Tver, mostly women, ages spread.
SPB_MIX = ((2, "Санкт-Петербург", 0.55), (72, "Тверь", 0.04), (1, "Москва", 0.16))
TVER_MIX = ((72, "Тверь", 0.6), (1, "Москва", 0.1), (2, "Санкт-Петербург", 0.05))


def my_group(vk: FakeVK) -> PublicSpec:
    spec = PublicSpec(id=MY_ID, screen_name="salon_tver", name="Салон «Коса»", members_count=300)
    vk.add_public(spec)
    return spec


def public(vk: FakeVK, public_id: int, **fields: Any) -> PublicSpec:
    members = fields.get("members_count", 6_000)
    # A healthy wall for its size: ER ~18% (above every engagement norm), reach ~15%.
    posts = wall(
        vk.now,
        likes=int(members * 0.17),
        views=int(members * 0.15),
        ad_views=int(members * 0.14),
    )
    values: dict[str, Any] = {
        "id": public_id,
        "screen_name": f"market_{public_id}",
        "name": f"Барахолка {public_id}",
        "members_count": members,
        "inactive_fraction": 0.1,
        "posts": posts,
        "female_share": 0.7,
        "city_mix": SPB_MIX,
        "birth_years": (1970, 2012),
        "bdate_no_year_share": 0.3,
        "bdate_hidden_share": 0.2,
        "also_in": {MY_ID: 0.25},
    }
    values.update(fields)
    spec = PublicSpec(**values)
    vk.add_public(spec)
    return spec


# --- the values, computed here from the fake's members ---------------------------------------


def vk_members(vk: FakeVK, spec: PublicSpec) -> list[dict[str, Any]]:
    """Every member as groups.getMembers(fields=last_seen,sex,bdate,city) shows it."""
    community = vk.public(spec.id)
    return [user_object(community.member(i), FIELDS, vk.now) for i in range(spec.members_count)]


def is_active(member: Mapping[str, Any], now: int) -> bool:
    if "deactivated" in member:
        return False
    seen = member.get("last_seen")
    return seen is None or now - seen["time"] <= 180 * DAY


def age(member: Mapping[str, Any], now: int) -> int | None:
    parts = str(member.get("bdate", "")).split(".")
    if len(parts) != 3:
        return None
    day, month, year = map(int, parts)
    today = datetime.fromtimestamp(now, UTC).date()
    return today.year - year - ((today.month, today.day) < (month, day))


def band(years: int) -> str:
    if years < 18:
        return "до 18"
    if years < 25:
        return "18–24"
    if years < 35:
        return "25–34"
    if years < 45:
        return "35–44"
    return "45+"


def same_city(title: str, wanted: str) -> bool:
    return title.lower().replace("ё", "е") == wanted.lower().replace("ё", "е")


def percent(part: int, whole: int) -> float:
    return part / whole * 100


def expected_audience(
    members: list[dict[str, Any]], now: int, target: OwnerTarget
) -> dict[str, Any]:
    active = [m for m in members if is_active(m, now)]
    sexed = [m for m in active if m.get("sex") in (1, 2)]
    aged = [a for a in (age(m, now) for m in active) if a is not None]
    titled = [m["city"]["title"] for m in active if "city" in m]
    bands = Counter(band(a) for a in aged)
    cities = Counter(titled)
    known = matched = 0
    for member in active:
        checks = []
        if target.city:
            checks.append(
                None if "city" not in member else same_city(member["city"]["title"], target.city)
            )
        if target.sex:
            sex = member.get("sex")
            checks.append(
                None if sex not in (1, 2) else sex == (1 if target.sex == "female" else 2)
            )
        if target.age_min is not None or target.age_max is not None:
            years = age(member, now)
            low, high = target.age_min or 0, target.age_max or 200
            checks.append(None if years is None else low <= years <= high)
        if checks and None not in checks:
            known += 1
            matched += all(checks)
    return {
        "active": len(active),
        "female_percent": percent(sum(m["sex"] == 1 for m in sexed), len(sexed)),
        "age_percent": {b: percent(bands[b], len(aged)) for b in AGE_BANDS},
        "top_cities": [(c, percent(n, len(titled))) for c, n in cities.most_common(5)],
        "city_percent": (
            percent(sum(same_city(c, target.city) for c in titled), len(titled))
            if target.city
            else None
        ),
        "target_percent": percent(matched, known) if known else None,
    }


def expected_overlap(vk: FakeVK, spec: PublicSpec, other_id: int) -> float:
    community = vk.public(spec.id)
    inside = sum(community.in_also(i, other_id) for i in range(spec.members_count))
    return percent(inside, spec.members_count)


def analysed_posts(spec: PublicSpec, now: int, limit: int = 30) -> list[PostSpec]:
    eligible = sorted(
        (p for p in spec.posts if not p.is_pinned and p.date <= now - DAY and p.from_id is None),
        key=lambda p: p.date,
        reverse=True,
    )
    return eligible[:limit]


def half_up(value: float, digits: int = 0) -> float:
    scale = 10**digits
    return math.floor(value * scale + 0.5) / scale


def expected_money(spec: PublicSpec, now: int, rub: float, target: float | None) -> dict[str, Any]:
    posts = analysed_posts(spec, now)
    ads = [p for p in posts if p.marked_as_ads]
    days = (posts[0].date - posts[-1].date) / DAY
    rates = [(p.likes + p.reposts + p.comments) / p.views * 100 for p in posts if p.views]
    ad_views = [p.views for p in ads if p.views is not None][:7]
    views = ad_views if len(ad_views) >= 3 else [p.views for p in posts if p.views is not None]
    expected = int(half_up(median(views)))
    return {
        "ad_share_percent": percent(len(ads), len(posts)),
        "ad_posts_per_day": len(ads) / days,
        "er_views_percent": sum(rates) / len(rates),
        "expected_views": expected,
        "cpm_rub": half_up(rub / expected * 1000, 2),
        "target_cpm_rub": half_up(rub / (expected * target / 100) * 1000, 2) if target else None,
    }


def served(requests: list[VKRequest]) -> list[VKRequest]:
    """Requests VK answered (not refused by its rate limit: those are sent again)."""
    return [r for r in requests if r.error != 6]


def close(actual: float | None, expected: float | None, tolerance: float = TOLERANCE) -> bool:
    if actual is None or expected is None:
        return actual is expected
    return abs(actual - expected) <= tolerance


def inside(value: float, interval: list[float] | tuple[float, float]) -> bool:
    low, high = interval
    return low - 1e-9 <= value <= high + 1e-9


def rules(result: PublicResult) -> dict[str, Any]:
    return {r.rule: r for r in result.reasons}


async def check(
    vk: FakeVK,
    links: list[str],
    kind: str = "user",
    target: OwnerTarget | None = None,
    prices: list[float | None] | None = None,
    **overrides: Any,
) -> list[PublicResult]:
    async with checker_for(vk, kind, **overrides) as checker:
        return await checker.check(links, target=target, prices=prices)


TVER_WOMEN = OwnerTarget(
    city="тверь",
    local_goal=True,
    sex="female",
    age_min=18,
    age_max=34,
    my_group="vk.com/salon_tver",
)


# --- read whole: every figure within ±0.15 pp -------------------------------------------------


@pytest.mark.parametrize("kind", ["user", "service"])
async def test_read_whole_every_figure_matches_the_fake(fake_vk: FakeVK, kind: str) -> None:
    my_group(fake_vk)
    # 2 000 members: read whole, and every one of them asked about the owner's community with a
    # service token (≤ 2 500); a user token asks up to 1 000 of them inside its first execute.
    spec = public(fake_vk, 391_001, members_count=2_000 if kind == "service" else 900)
    [result] = await check(fake_vk, [spec.screen_name], kind, TVER_WOMEN, [3_000.0])
    data = result.to_json_dict()
    assert CONTRACT_KEYS <= set(data) and set(data["audience"]) == AUDIENCE_KEYS
    want = expected_audience(vk_members(fake_vk, spec), fake_vk.now, TVER_WOMEN)
    got = data["audience"]
    assert got["active_sampled"] == want["active"]
    assert close(got["female_percent"], want["female_percent"])
    assert got["age_percent"].keys() == want["age_percent"].keys()
    assert all(close(got["age_percent"][b], want["age_percent"][b]) for b in AGE_BANDS)
    assert [c["city"] for c in got["top_cities"]] == [c for c, _ in want["top_cities"]]
    assert all(
        close(c["percent"], p)
        for c, (_, p) in zip(got["top_cities"], want["top_cities"], strict=True)
    )
    assert close(got["city_percent"], want["city_percent"])
    assert close(got["target_percent"], want["target_percent"])
    assert got["target_ci95"] == [got["target_percent"]] * 2  # read whole: exact
    overlap = data["overlap"]
    assert overlap["group"] == "salon_tver"
    assert close(overlap["percent"], expected_overlap(fake_vk, spec, MY_ID))
    assert overlap["ci95"] == [overlap["percent"]] * 2
    money = expected_money(spec, fake_vk.now, 3_000.0, want["target_percent"])
    assert close(data["ad_load"]["ad_share_percent"], money["ad_share_percent"])
    assert close(data["ad_load"]["ad_posts_per_day"], money["ad_posts_per_day"], 0.0051)
    assert close(data["er_views_percent"], money["er_views_percent"])
    assert data["price"] == {
        "rub": 3_000.0,
        "expected_views": money["expected_views"],
        "cpm_rub": money["cpm_rub"],
        "target_cpm_rub": pytest.approx(money["target_cpm_rub"], abs=0.5),
    }
    # A healthy public, but 4% from Tver for a local goal: not «брать».
    assert result.verdict == "avoid"
    city = rules(result)["city_fit"]
    assert city.severity == "critical" and "тверь" in city.text.lower()
    assert "бота" in city.text  # the threshold is the bot's own
    assert {"city_fit", "target_fit", "overlap", "ad_load", "price"} <= rules(result).keys()


async def test_the_same_healthy_public_is_buy_without_a_local_goal(fake_vk: FakeVK) -> None:
    spec = public(fake_vk, 391_011)
    [plain] = await check(fake_vk, [spec.screen_name])
    [local] = await check(
        fake_vk, [spec.screen_name], target=OwnerTarget(city="Тверь", local_goal=True)
    )
    [tver] = await check(
        fake_vk,
        [public(fake_vk, 391_012, city_mix=TVER_MIX).screen_name],
        target=OwnerTarget(city="Тверь", local_goal=True),
    )
    assert plain.verdict == "buy"
    assert local.verdict != "buy" and rules(local)["city_fit"].severity == "critical"
    assert "4" in rules(local)["city_fit"].text  # the number is in the text
    assert tver.verdict == "buy" and rules(tver)["city_fit"].severity == "ok"


# --- sampled: inside the interval -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["user", "service"])
async def test_sampled_shares_fall_inside_their_intervals(fake_vk: FakeVK, kind: str) -> None:
    my_group(fake_vk)
    spec = public(fake_vk, 392_001, members_count=60_000, inactive_fraction=0.15)
    [result] = await check(fake_vk, [spec.screen_name], kind, TVER_WOMEN)
    assert result.metrics is not None and result.metrics.members_sampled
    assert result.metrics.members_sampled < spec.members_count  # a sample
    want = expected_audience(vk_members(fake_vk, spec), fake_vk.now, TVER_WOMEN)
    audience = result.audience
    assert audience is not None and audience.target_ci95 is not None
    low, high = audience.target_ci95
    assert low < high
    assert inside(want["target_percent"], audience.target_ci95)
    assert result.overlap is not None
    assert inside(expected_overlap(fake_vk, spec, MY_ID), result.overlap.ci95)
    assert result.overlap.ci95[0] < result.overlap.ci95[1]
    # The point estimates of the other shares are close to the truth (a 10 000-member sample).
    assert close(audience.female_percent, want["female_percent"], 3)
    assert close(audience.city_percent, want["city_percent"], 2)
    assert audience.age_percent is not None
    assert all(close(audience.age_percent[b], want["age_percent"][b], 3) for b in AGE_BANDS)
    assert "оценка по выборке" in rules(result)["target_fit"].text


# --- the requests -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["user", "service"])
async def test_the_portrait_costs_no_request(fake_vk: FakeVK, kind: str) -> None:
    spec = public(fake_vk, 393_001, members_count=30_000)
    target = OwnerTarget(city="Тверь", local_goal=True, sex="female", age_min=25, age_max=44)
    await check(fake_vk, [spec.screen_name], kind)
    before = len(fake_vk.requests)
    today = served(fake_vk.requests)
    [result] = await check(fake_vk, [spec.screen_name], kind, target)
    with_portrait = served(fake_vk.requests[before:])
    assert len(with_portrait) == len(today)  # the same requests, HTTP and inside execute
    assert sorted(r.method for r in with_portrait) == sorted(r.method for r in today)
    assert result.audience is not None and result.audience.target_percent is not None
    assert {r.method for r in with_portrait} <= {
        "execute",
        "utils.resolveScreenName",
        "groups.getById",
        "wall.get",
        "groups.getMembers",
    }
    reads = [
        r for r in with_portrait if r.method == "groups.getMembers" and r.params.get("count") != "0"
    ]
    assert reads and all(
        {"sex", "bdate", "city"} <= set(r.params["fields"].split(",")) for r in reads
    )
    refused = len(fake_vk.requests[before:]) - len(with_portrait)  # retried after VK error 6
    assert result.vk_requests == sum(1 for r in with_portrait if not r.inner) + refused


async def test_overlap_with_a_service_token_costs_at_most_five_requests(fake_vk: FakeVK) -> None:
    my_group(fake_vk)
    spec = public(fake_vk, 394_001, members_count=60_000)
    target = OwnerTarget(my_group="salon_tver")
    [plain] = await check(fake_vk, [spec.screen_name], "service")
    before = len(fake_vk.requests)
    [result] = await check(fake_vk, [spec.screen_name], "service", target)
    calls = [r for r in served(fake_vk.requests[before:]) if r.method == "groups.isMember"]
    assert len(calls) == 5  # 2 500 of the sampled members, 500 a call
    assert all(len(r.params["user_ids"].split(",")) == 500 for r in calls)
    assert result.vk_requests == len(fake_vk.requests) - before  # refused ones included
    assert len(served(fake_vk.requests[before:])) - len(served(fake_vk.requests[:before])) == 5
    assert plain.overlap is None
    assert result.overlap is not None and result.overlap.group == "salon_tver"


async def test_overlap_with_a_user_token_rides_in_the_same_round_trip(fake_vk: FakeVK) -> None:
    my_group(fake_vk)
    spec = public(fake_vk, 395_001, members_count=60_000)
    [result] = await check(fake_vk, [spec.screen_name], "user", OwnerTarget(my_group="salon_tver"))
    asked = [r for r in fake_vk.requests if r.method == "groups.isMember"]
    assert asked and all(r.inner for r in asked) and len(asked) <= 5
    assert sum(len(r.params["user_ids"].split(",")) for r in asked) == 2_500
    assert round_trips(fake_vk) == result.vk_requests == 3  # the one-public executes, at once
    assert result.overlap is not None


async def test_several_publics_ask_about_the_owners_community_and_each_other_in_one_more_round_trip(
    fake_vk: FakeVK,
) -> None:
    my_group(fake_vk)
    links = [public(fake_vk, 395_101 + i, members_count=1_500).screen_name for i in range(3)]
    results = await check(fake_vk, links, "user", OwnerTarget(my_group="salon_tver"))
    asked = [r for r in fake_vk.requests if r.method == "groups.isMember"]
    assert len(asked) == 3 * 3 + 3  # 1 500 members: 3 calls each; one call a pair
    assert round_trips(fake_vk) == 2 and all(r.inner for r in asked)
    assert all(r.overlap is not None and len(r.pairwise_overlap) == 2 for r in results)
    assert [r.vk_requests for r in results] == [2, 2, 2]


async def test_a_missing_own_community_gives_a_null_overlap_and_says_so(fake_vk: FakeVK) -> None:
    spec = public(fake_vk, 395_011)
    [result] = await check(
        fake_vk, [spec.screen_name], "service", OwnerTarget(my_group="no_such_group")
    )
    assert result.overlap is None and result.to_json_dict()["overlap"] is None
    assert rules(result)["overlap"].text == t(
        "verdicts.rules.overlap_unknown",
        group="no_such_group",
        why=t("verdicts.fit.why_not_answered"),
    )


# --- nulls say why ----------------------------------------------------------------------------


async def test_a_hidden_age_is_null_and_the_reason_says_why(fake_vk: FakeVK) -> None:
    spec = public(fake_vk, 396_001, bdate_hidden_share=0.3, bdate_no_year_share=0.7)
    [result] = await check(fake_vk, [spec.screen_name], target=OwnerTarget(age_min=25, age_max=34))
    data = result.to_json_dict()["audience"]
    assert data["age_percent"] is None and data["target_percent"] is None
    assert data["target_ci95"] is None and data["female_percent"] is not None
    reason = rules(result)["target_fit"]
    assert (
        reason.severity == "warning" and "возраст скрыт у 100% активных участников" in reason.text
    )


async def test_a_hidden_member_list_keeps_the_shape_with_nulls(fake_vk: FakeVK) -> None:
    spec = public(fake_vk, 396_011, members_hidden=True)
    [result] = await check(
        fake_vk, [spec.screen_name], target=TVER_WOMEN.model_copy(update={"my_group": None})
    )
    data = result.to_json_dict()
    assert data["audience"] == {
        "active_sampled": 0,
        "female_percent": None,
        "age_percent": None,
        "top_cities": [],
        "city_percent": None,
        "target_percent": None,
        "target_ci95": None,
    }
    assert "список участников скрыт" in rules(result)["city_fit"].text
    assert result.verdict != "buy"


# --- several publics: pairwise overlap and the ranking ----------------------------------------


@pytest.mark.parametrize("kind", ["user", "service"])
async def test_pairwise_overlap_and_ranking_by_target_cost(fake_vk: FakeVK, kind: str) -> None:
    a = public(fake_vk, 397_001, city_mix=TVER_MIX)
    # 70% of b's members are in a too: 2 100 people, 35% of a's 6 000.
    b = public(fake_vk, 397_002, city_mix=TVER_MIX, members_count=3_000, also_in={397_001: 0.7})
    target = OwnerTarget(city="Тверь", local_goal=True)
    before = len(fake_vk.requests)
    results = await check(
        fake_vk, [a.screen_name, b.screen_name], kind, target, prices=[900.0, 5_000.0]
    )
    asked = [r for r in fake_vk.requests[before:] if r.method == "groups.isMember"]
    # One question a pair: the smaller public's members asked about the bigger one.
    assert [r.params["group_id"] for r in asked] == [str(a.id)]
    if kind == "user":  # the samples' round trip, then one execute for the questions
        assert round_trips(fake_vk) == 2 and all(r.inner for r in asked)
    first, second = results
    truth = expected_overlap(fake_vk, b, a.id)
    [b_in_a] = second.pairwise_overlap
    assert b_in_a.group == a.screen_name and inside(truth, b_in_a.ci95)
    [a_in_b] = first.pairwise_overlap  # from the member counts: the same people
    assert a_in_b.group == b.screen_name
    assert inside(truth * b.members_count / a.members_count, a_in_b.ci95)
    assert a_in_b.percent == pytest.approx(b_in_a.percent * 3_000 / 6_000)
    assert "overlap_pair" in rules(first) and "overlap_pair" in rules(second)
    assert first.to_json_dict()["pairwise_overlap"][0]["group"] == b.screen_name
    # Both «брать»; the cheaper 1 000 of the target audience comes first.
    assert first.price and second.price
    assert first.price.target_cpm_rub is not None and second.price.target_cpm_rub is not None
    assert first.price.target_cpm_rub < second.price.target_cpm_rub
    assert [r.input for r in rank_results(results[::-1])] == [a.screen_name, b.screen_name]


async def test_ranking_without_prices_is_by_target_share_times_reach(fake_vk: FakeVK) -> None:
    spb = public(fake_vk, 398_001)
    tver = public(fake_vk, 398_002, city_mix=TVER_MIX)
    target = OwnerTarget(city="Тверь", sex="female")  # not a local goal: a criterion only
    results = await check(fake_vk, [spb.screen_name, tver.screen_name], target=target)
    assert [r.verdict for r in results] == ["caution", "buy"]  # 4% target: below the bot's 10%
    assert [r.input for r in rank_results(results)] == [tver.screen_name, spb.screen_name]


async def test_a_cached_result_takes_a_new_price_and_a_new_target_refetches(
    fake_vk: FakeVK,
) -> None:
    spec = public(fake_vk, 399_001)
    target = OwnerTarget(city="Тверь", local_goal=True)
    async with checker_for(fake_vk) as checker:
        [first] = await checker.check([spec.screen_name], target=target, prices=[1_000.0])
        count = len(fake_vk.requests)
        [again] = await checker.check([spec.screen_name], target=target, prices=[2_000.0])
        assert len(fake_vk.requests) == count and again.from_cache
        assert first.price and again.price
        assert again.price.cpm_rub == pytest.approx(2 * first.price.cpm_rub, abs=0.011)
        [other] = await checker.check(
            [spec.screen_name], target=OwnerTarget(city="Москва", local_goal=True)
        )
        assert len(fake_vk.requests) > count and not other.from_cache
        assert other.price is None


# --- the CLI ----------------------------------------------------------------------------------


async def test_cli_json_with_the_owners_target(fake_vk: FakeVK) -> None:
    my_group(fake_vk)
    spec = public(fake_vk, 399_101)
    other = public(fake_vk, 399_102, city_mix=TVER_MIX)
    env = cli_env(fake_vk, VK_USER_TOKEN=fake_vk.user_token)
    args = [spec.screen_name, f"vk.com/{other.screen_name}", "--json", "--city", "Тверь"]
    args += ["--sex", "female", "--age", "18-34", "--my-group", "vk.com/salon_tver"]
    code, out, err = await run_cli(*args, "--price", "2 500", env=env)
    assert code == 0, err
    data = json.loads(out)
    for item in data:
        assert CONTRACT_KEYS | {"pairwise_overlap"} <= set(item)
        assert set(item["audience"]) == AUDIENCE_KEYS
        assert item["price"]["rub"] == 2_500 and item["overlap"]["group"] == "salon_tver"
        assert item["audience"]["city_percent"] is not None
    assert data[0]["verdict"] == "avoid" and data[1]["verdict"] != "avoid"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--price", "-300"], t("check.cli.bad_price")),
        (["--price", "бесплатно"], t("check.cli.bad_price")),
        (["--age", "50-20"], t("check.cli.age_order", low=20, high=50)),
        (["--age", "восемнадцать"], t("check.cli.bad_age")),
        (["--age", "18-200"], t("check.cli.bad_age")),
        (["--sex", "женский"], "female"),
        (["--my-group", "https://t.me/x"], "--my-group"),
    ],
)
async def test_cli_rejects_bad_target_values(
    fake_vk: FakeVK, flags: list[str], message: str
) -> None:
    env = cli_env(fake_vk, VK_USER_TOKEN=fake_vk.user_token)
    code, out, err = await run_cli("club1", "--json", *flags, env=env)
    assert code == 2 and out == "" and message in err
    assert round_trips(fake_vk) == 0


async def test_a_price_that_is_not_a_positive_number_counts_as_unknown(fake_vk: FakeVK) -> None:
    spec = public(fake_vk, 399_201)
    results = await check(fake_vk, [spec.screen_name] * 3, prices=[-500.0, float("nan"), 1_200.0])
    assert [r.price is None for r in results] == [True, True, False]
    assert "price" not in rules(results[0]) and "price" in rules(results[2])
    with pytest.raises(ValueError):
        await check(fake_vk, [spec.screen_name], prices=[1.0, 2.0])
