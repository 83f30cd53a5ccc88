"""The VKScript of the public check with a user token, and the plans that fill it.

``execute`` runs up to 25 API calls in one round trip. ``ONE_PUBLIC_SCRIPT`` reads one public in
ONE round trip whatever its size: up to three of them (VK's per-second limit for a user token)
are sent at once, each reading the member count first and computing its blocks' offsets from it
(``sampling.stratum_offset`` is the same arithmetic). ``PUBLICS_SCRIPT`` and ``MEMBERS_SCRIPT``
serve several publics at once (see ``collect.collect_with_execute``).
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass

from advisor.vk.links import PublicRef
from advisor.vk.sampling import EXECUTE_CALL_LIMIT, PAGE_SIZE, Block, whole_read_limit

WALL_PAGE = 100  # wall.get returns at most 100 posts per call
WALL_PAGES = 2  # enough for N ≤ 100 analysed posts plus the 5–7 most recent ad posts
# filter=owner asks VK for the community's own posts only; metrics.eligible_posts checks again.
# "deactivated" comes with every user object anyway; sex, bdate and city make the audience
# portrait (audience.py) from the same answers, at no extra request.
MEMBER_FIELDS = "last_seen,sex,bdate,city"
IS_MEMBER_IDS = 500  # groups.isMember takes up to 500 user_ids
# With the owner's community given, each execute asks groups.isMember about up to these many
# of the members it read (spread over its blocks): 2 + 2 + 1 calls, 2 500 members at most.
OVERLAP_QUOTAS = (1000, 1000, 500)
GROUP_FIELDS = "members_count"

USER_EXECUTES = 3  # VK's per-second limit for a user token: one public's executes sent at once

# The first round trip for a batch of publics. ``publics`` holds, per public, the id or screen
# name, the wall's ``domain`` and whether the name must be resolved (then a person's or an app's
# name is told apart from a community's without another request). Member lists are read whole
# only up to ``whole_limit`` members and only with the calls left: ``budget`` counts them down.
PUBLICS_SCRIPT = """
var publics = {publics};
var budget = {budget};
var out = [];
var i = 0;
while (i < publics.length) {{
  var p = publics[i];
  var resolved = null;
  if (p[2]) {{
    resolved = API.utils.resolveScreenName({{"screen_name": p[0]}});
    budget = budget - 1;
  }}
  var info = API.groups.getById({{"group_id": p[0], "fields": "{group_fields}"}});
  var wall = [];
  var posts_offset = 0;
  while (posts_offset < {wall_total}) {{
    wall.push(API.wall.get({{"domain": p[1], "filter": "owner", "offset": posts_offset,
                            "count": {wall_page}}}));
    posts_offset = posts_offset + {wall_page};
  }}
  budget = budget - {fixed_calls};
  out.push({{"resolved": resolved, "info": info, "wall": wall}});
  i = i + 1;
}}
var pages = [];
i = 0;
while (i < out.length && budget > 0) {{
  var g = out[i].info.groups[0];
  if (g && g.is_closed == 0 && !g.deactivated) {{
    var offset = 0;
    while (offset < g.members_count && g.members_count <= {whole_limit} && budget > 0) {{
      pages.push([i, offset, API.groups.getMembers({{"group_id": g.id, "offset": offset,
                                                    "count": {page_size},
                                                    "fields": "{member_fields}"}})]);
      offset = offset + {page_size};
      budget = budget - 1;
    }}
  }}
  i = i + 1;
}}
return {{"publics": out, "pages": pages}};
"""

# Member blocks still to read (a big public's sample, or the rest of a long list), for any
# publics: up to 25 groups.getMembers calls per round trip.
MEMBERS_SCRIPT = """
var blocks = {blocks};
var result = [];
var i = 0;
while (i < blocks.length) {{
  result.push(API.groups.getMembers({{"group_id": blocks[i][0], "offset": blocks[i][1],
                                     "count": blocks[i][2], "fields": "{member_fields}"}}));
  i = i + 1;
}}
return result;
"""


# A big public's sample with the community token (the check's reader being a service token):
# up to 25 blocks of one community, [offset, count] pairs. The first refused call ends the
# script (a hidden member list costs one refused call per execute, not 25); the answers come in
# the blocks' order, the refused one as false (its error is in execute_errors).
SAMPLE_SCRIPT = """
var group = {group};
var blocks = {blocks};
var result = [];
var refused = false;
var i = 0;
while (i < blocks.length && !refused) {{
  var page = API.groups.getMembers({{"group_id": group, "offset": blocks[i][0],
                                     "count": blocks[i][1], "fields": "{member_fields}"}});
  result.push(page);
  if (!page) {{
    refused = true;
  }}
  i = i + 1;
}}
return result;
"""

# One public in one round trip: ``USER_EXECUTES`` of these are sent at once. Each reads the
# member count, then its ``slots``: [stratum, position] pairs. A list of up to ``whole_limit``
# members is read whole (stratum i is then page i: the first execute has enough slots for the
# pages); a longer one gets one block of ``size`` members per stratum at ``position`` of the
# room in it (sampling.stratum_offset). The first execute (``head``) also reads the community
# and its wall; ``resolve`` tells a person's or an app's name from a community's.
ONE_PUBLIC_SCRIPT = """
var group = {group};
var slots = {slots};
var strata = {strata};
var size = {size};
var resolved = null;
var info = null;
var wall = [];
if ({head}) {{
  if ({resolve}) {{
    resolved = API.utils.resolveScreenName({{"screen_name": group}});
  }}
  info = API.groups.getById({{"group_id": group, "fields": "{group_fields}"}});
  var posts_offset = 0;
  while (posts_offset < {wall_total}) {{
    wall.push(API.wall.get({{"domain": {domain}, "filter": "owner", "offset": posts_offset,
                            "count": {wall_page}}}));
    posts_offset = posts_offset + {wall_page};
  }}
}}
var first = API.groups.getMembers({{"group_id": group, "count": 0}});
var total = null;
var blocks = [];
if (first) {{
  total = first.count;
  var i = 0;
  while (i < slots.length) {{
    var s = slots[i][0];
    var offset = s * {page_size};
    var count = {page_size};
    if (total > {whole_limit}) {{
      var start = parseInt(s * total / strata);
      var end = parseInt((s + 1) * total / strata);
      offset = start + parseInt(slots[i][1] * (end - start - size));
      count = size;
    }}
    if (offset < total) {{
      blocks.push([offset, API.groups.getMembers({{"group_id": group, "offset": offset,
                                                   "count": count,
                                                   "fields": "{member_fields}"}})]);
    }}
    i = i + 1;
  }}
}}
var mine = {mine};
var member_of = [];
if (mine && total) {{
  var quota = {quota};
  var ids = [];
  var per = 0;
  if (blocks.length > 0) {{
    per = parseInt((quota + blocks.length - 1) / blocks.length);
  }}
  var j = 0;
  while (j < blocks.length && ids.length < quota) {{
    if (blocks[j][1]) {{
      ids = ids + blocks[j][1].items@.id.slice(0, per);
    }}
    j = j + 1;
  }}
  ids = ids.slice(0, quota);
  var c = 0;
  while (c < ids.length) {{
    member_of.push(API.groups.isMember({{"group_id": mine,
                                        "user_ids": ids.slice(c, c + {chunk})}}));
    c = c + {chunk};
  }}
}}
return {{"resolved": resolved, "info": info, "wall": wall, "total": total, "blocks": blocks,
        "member_of": member_of}};
"""

# groups.isMember questions for any publics, up to 25 a round trip: [group, "id,id,..."] pairs.
MEMBERSHIP_SCRIPT = """
var asks = {asks};
var result = [];
var i = 0;
while (i < asks.length) {{
  result.push(API.groups.isMember({{"group_id": asks[i][0], "user_ids": asks[i][1]}}));
  i = i + 1;
}}
return result;
"""


@dataclass(frozen=True)
class OnePublicPlan:
    """The executes reading one public, and the sample they take of a long member list."""

    scripts: tuple[str, ...]
    strata: int
    size: int
    """Members per block when the list is sampled."""
    whole_limit: int
    """Lists up to this long are read whole."""


def overlap_calls(quota: int) -> int:
    return -(-quota // IS_MEMBER_IDS)


def one_public_plan(
    ref: PublicRef,
    member_budget: int,
    rng: random.Random,
    executes: int = USER_EXECUTES,
    mine: str | int | None = None,
) -> OnePublicPlan:
    """The ``executes`` scripts for ``ref``, built before its member count is known.

    ``mine``: the owner's community; each execute then also asks ``groups.isMember`` about up
    to ``OVERLAP_QUOTAS`` of the members it read, in the same round trip."""
    head = fixed_calls(ref) + 1  # + the member count
    quotas = [
        OVERLAP_QUOTAS[n] if mine is not None and n < len(OVERLAP_QUOTAS) else 0
        for n in range(executes)
    ]
    capacity = [
        EXECUTE_CALL_LIMIT - (head if n == 0 else 1) - overlap_calls(quotas[n])
        for n in range(executes)
    ]
    strata = sum(capacity)
    size = max(1, min(PAGE_SIZE, member_budget // strata))
    whole_limit = min(whole_read_limit(member_budget), capacity[0] * PAGE_SIZE)
    group = ref.screen_name if ref.screen_name is not None else ref.group_id
    domain = ref.screen_name if ref.screen_name is not None else f"club{ref.group_id}"
    scripts = []
    first_stratum = 0
    for index, slots in enumerate(capacity):
        # Fixed notation: json.dumps writes 5e-06 for a small position, which VKScript's
        # number syntax (digits and a point) does not read.
        positions = ", ".join(
            f"[{stratum}, {rng.random():.6f}]"
            for stratum in range(first_stratum, first_stratum + slots)
        )
        first_stratum += slots
        scripts.append(
            ONE_PUBLIC_SCRIPT.format(
                group=json.dumps(group),
                domain=json.dumps(domain),
                slots=f"[{positions}]",
                strata=strata,
                size=size,
                head=1 if index == 0 else 0,
                resolve=1 if ref.screen_name is not None else 0,
                group_fields=GROUP_FIELDS,
                wall_total=WALL_PAGES * WALL_PAGE,
                wall_page=WALL_PAGE,
                page_size=PAGE_SIZE,
                whole_limit=whole_limit,
                member_fields=MEMBER_FIELDS,
                mine=json.dumps(mine if quotas[index] else None),
                quota=quotas[index],
                chunk=IS_MEMBER_IDS,
            )
        )
    return OnePublicPlan(tuple(scripts), strata, size, whole_limit)


def fixed_calls(ref: PublicRef) -> int:
    """API calls the first script makes for ``ref`` before any member page."""
    return (1 if ref.screen_name is not None else 0) + 1 + WALL_PAGES


def publics_script(refs: Sequence[PublicRef], member_budget: int) -> str:
    if sum(fixed_calls(ref) for ref in refs) > EXECUTE_CALL_LIMIT:
        raise ValueError(f"more than {EXECUTE_CALL_LIMIT} calls for these publics")
    publics = [
        [ref.screen_name, ref.screen_name, 1]
        if ref.screen_name is not None
        else [ref.group_id, f"club{ref.group_id}", 0]
        for ref in refs
    ]
    return PUBLICS_SCRIPT.format(
        publics=json.dumps(publics),
        budget=EXECUTE_CALL_LIMIT,
        group_fields=GROUP_FIELDS,
        wall_total=WALL_PAGES * WALL_PAGE,
        wall_page=WALL_PAGE,
        fixed_calls=1 + WALL_PAGES,
        whole_limit=whole_read_limit(member_budget),
        page_size=PAGE_SIZE,
        member_fields=MEMBER_FIELDS,
    )


def members_script(blocks: Sequence[tuple[int, Block]]) -> str:
    """The script reading ``(group_id, block)`` pairs."""
    if len(blocks) > EXECUTE_CALL_LIMIT:
        raise ValueError(f"at most {EXECUTE_CALL_LIMIT} blocks per execute")
    return MEMBERS_SCRIPT.format(
        blocks=json.dumps([[group_id, b.offset, b.count] for group_id, b in blocks]),
        member_fields=MEMBER_FIELDS,
    )


def sample_scripts(group_id: int, blocks: Sequence[Block]) -> list[str]:
    """The executes reading ``blocks`` of one community, 25 blocks each, in list order."""
    return [
        SAMPLE_SCRIPT.format(
            group=group_id,
            blocks=json.dumps([[b.offset, b.count] for b in part]),
            member_fields=MEMBER_FIELDS,
        )
        for part in (
            blocks[i : i + EXECUTE_CALL_LIMIT] for i in range(0, len(blocks), EXECUTE_CALL_LIMIT)
        )
    ]


def membership_script(asks: Sequence[tuple[str | int, Sequence[int]]]) -> str:
    """The script asking ``groups.isMember`` for (group, ids) pairs (up to 500 ids each)."""
    if len(asks) > EXECUTE_CALL_LIMIT:
        raise ValueError(f"at most {EXECUTE_CALL_LIMIT} questions per execute")
    if any(len(ids) > IS_MEMBER_IDS for _, ids in asks):
        raise ValueError(f"at most {IS_MEMBER_IDS} ids per question")
    return MEMBERSHIP_SCRIPT.format(
        asks=json.dumps([[group, ",".join(map(str, ids))] for group, ids in asks])
    )


def pack(refs: Sequence[PublicRef]) -> list[list[PublicRef]]:
    """Publics in first-script batches, in order, each within the 25-call limit."""
    batches: list[list[PublicRef]] = []
    used = EXECUTE_CALL_LIMIT
    for ref in refs:
        cost = fixed_calls(ref)
        if used + cost > EXECUTE_CALL_LIMIT:
            batches.append([])
            used = 0
        batches[-1].append(ref)
        used += cost
    return batches
