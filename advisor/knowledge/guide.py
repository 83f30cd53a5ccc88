"""Where the source guide lives and which of its lines are section headings.

The knowledge data cites guide headings in ``section``; these helpers let tests (and anything that
shows a citation) check a cited heading against the guide text itself.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

GUIDE_ENV = "PROMO_GUIDE_PATH"
GUIDE_RELATIVE = Path("shared/guide/vk-promotion-guide.ru.txt")

# The repository sits next to ``shared/`` (``/work/main`` and ``/work/shared``), locally and in CI.
_DEFAULT_GUIDE = Path(__file__).resolve().parents[3] / GUIDE_RELATIVE

MAX_HEADING_CHARS = 80
_TERMINAL = (".", ",", ":", ";", "!", "?", "…")
# A sentence that ends on a quoted interface name («Активные») loses its full stop in the guide;
# headings never end on a quotation, so such lines are prose.
_CLOSING_QUOTES = ("»", '"', "“", "”")
_LIST_ITEM = re.compile(r"^(?:[-–—•*]|\d+[.)]|Шаг\s+\d+)")


def is_heading(line: str) -> bool:
    """True when ``line`` looks like a section heading of the guide."""
    text = line.strip()
    if not text or len(text) > MAX_HEADING_CHARS:
        return False
    if text.endswith(_TERMINAL) or text.endswith(_CLOSING_QUOTES):
        return False
    if _LIST_ITEM.match(text):
        return False
    return text[0].isupper()


def guide_headings(text: str) -> set[str]:
    """The guide's headings: short whole lines, no terminal punctuation, not list items."""
    return {line.strip() for line in text.splitlines() if is_heading(line)}


def find_guide() -> Path:
    """The guide file: ``$PROMO_GUIDE_PATH`` if set, else ``shared/guide/`` beside the repo."""
    configured = os.environ.get(GUIDE_ENV)
    path = Path(configured).expanduser() if configured else _DEFAULT_GUIDE
    if not path.is_file():
        source = f"${GUIDE_ENV}" if configured else "the default location"
        raise FileNotFoundError(f"guide not found at {path} (from {source})")
    return path
