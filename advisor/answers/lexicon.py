"""The matching lexicon (``advisor/answers/<lang>/lexicon.yaml``): synonyms, stop words, intents.

Loaded once per language and validated; a malformed file stops start-up with the file named.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from advisor.yaml_files import read_yaml

LEXICON_DIR = Path(__file__).parent
DEFAULT_LANG = "ru"

IntentName = Literal["help", "cancel", "back", "restart", "greeting", "thanks", "profile"]


class LexiconError(RuntimeError):
    """The lexicon file is malformed; the message names the file and the field."""


class Lexicon(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    synonyms: list[list[str]] = Field(min_length=1)
    colloquial: list[list[str]] = []
    stopwords: list[str] = []
    intents: dict[IntentName, list[str]]
    intent_filler: list[str] = []
    latin_terms: list[str] = []
    place_goal: str | None = None
    ordinals: list[str] = []
    option_filler: list[str] = []
    first_person: list[str] = []
    want_words: list[str] = []
    city_markers: list[str] = []
    not_cities: list[str] = []
    city_aliases: dict[str, str] = {}


@lru_cache(maxsize=4)
def load_lexicon(lang: str = DEFAULT_LANG) -> Lexicon:
    path = LEXICON_DIR / lang / "lexicon.yaml"
    try:
        return Lexicon.model_validate(read_yaml(path))
    except ValidationError as exc:
        raise LexiconError(f"lexicon file {path} is invalid: {exc}") from exc
