"""The owner's target and the fit figures of a checked public: the contract between the check
(which computes them), the chat (which asks the owner for the target and renders the figures) and
``check --json`` (which prints them). Field meanings are those of the fit issue; a figure that
cannot be computed is None, never invented."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Sex = Literal["female", "male"]
AGE_BANDS = ("до 18", "18–24", "25–34", "35–44", "45+")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OwnerTarget(_Frozen):
    """Whom the owner wants to reach: from the stored profile in chat, from flags on the CLI."""

    city: str | None = Field(default=None, max_length=100)
    """The owner's city title as VK spells it («Тверь»)."""
    local_goal: bool = False
    """The goal is subscribers from ``city``: a public with few of them is not «брать»."""
    sex: Sex | None = None
    age_min: int | None = Field(default=None, ge=0, le=120)
    age_max: int | None = Field(default=None, ge=0, le=120)
    my_group: str | None = Field(default=None, max_length=255)
    """The owner's own community (a link or screen name), for the audience overlap."""

    @model_validator(mode="after")
    def _age_order(self) -> OwnerTarget:
        if self.age_min is not None and self.age_max is not None and self.age_min > self.age_max:
            raise ValueError("age_min is above age_max")
        return self

    @property
    def criteria_given(self) -> bool:
        """True when ``target_percent`` has something to count (city, sex or an age bound)."""
        return bool(self.city or self.sex or self.age_min is not None or self.age_max is not None)


class CityShare(_Frozen):
    city: str
    percent: float


class AudienceOut(_Frozen):
    active_sampled: int
    female_percent: float | None
    age_percent: dict[str, float] | None
    """Keys are ``AGE_BANDS`` in that order."""
    top_cities: list[CityShare]
    city_percent: float | None
    target_percent: float | None
    target_ci95: tuple[float, float] | None
    # How many of the active sampled members show each field, for the chat's «возраст скрыт у
    # 70%». Kept in the check cache, left out of the JSON contract (``CHAT_ONLY``); None when
    # not counted.
    sex_known: int | None = None
    age_known: int | None = None
    """Active sampled members whose bdate has a year."""
    city_known: int | None = None

    CHAT_ONLY: ClassVar[frozenset[str]] = frozenset({"sex_known", "age_known", "city_known"})


class AdLoadOut(_Frozen):
    ad_share_percent: float
    ad_posts_per_day: float


class OverlapOut(_Frozen):
    group: str
    percent: float
    ci95: tuple[float, float]


class PriceOut(_Frozen):
    rub: float
    expected_views: int
    cpm_rub: float
    target_cpm_rub: float | None
