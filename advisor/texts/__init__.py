"""User-facing texts. Every string a user reads lives in ``advisor/texts/<lang>/*.yaml``.

A key is ``<file stem>.<key>``, e.g. ``ui.back`` is the key ``back`` in ``ru/ui.yaml``.
Values are ``str.format`` templates.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from advisor.yaml_files import read_yaml

TEXTS_DIR = Path(__file__).parent
DEFAULT_LANG = "ru"


class TextsError(RuntimeError):
    """A texts file is malformed or a key is missing."""


def _flatten(prefix: str, value: Any, out: dict[str, str], source: Path) -> None:
    if isinstance(value, dict):
        for key, sub in value.items():
            if not isinstance(key, str):
                # YAML reads a bare yes/no/on/off key as a boolean: demand quotes instead.
                raise TextsError(f"{source}: key {key!r} under {prefix!r} must be a quoted string")
            _flatten(f"{prefix}.{key}", sub, out, source)
    elif isinstance(value, str):
        out[prefix] = value
    else:
        raise TextsError(f"{source}: key {prefix!r} must be a string or a mapping")


@lru_cache(maxsize=8)
def load_texts(lang: str = DEFAULT_LANG) -> dict[str, str]:
    folder = TEXTS_DIR / lang
    if not folder.is_dir():
        raise TextsError(f"no texts for language {lang!r}")
    texts: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        data = read_yaml(path) or {}
        if not isinstance(data, dict):
            raise TextsError(f"{path}: top level must be a mapping")
        _flatten(path.stem, data, texts, path)
    return texts


def t(key: str, lang: str = DEFAULT_LANG, /, **params: Any) -> str:
    """The text under ``key`` with ``params`` substituted."""
    try:
        template = load_texts(lang)[key]
    except KeyError:
        raise TextsError(f"missing text {key!r} for language {lang!r}") from None
    return template.format(**params) if params else template


@lru_cache(maxsize=256)
def words(key: str, lang: str = DEFAULT_LANG) -> frozenset[str]:
    """A comma-separated word list under ``key`` (what people type for «да», «меню», …),
    lowercased: the one place each such list is kept, per language."""
    return frozenset(w.strip().lower() for w in t(key, lang).split(",") if w.strip())
