"""Plain engine text as Telegram HTML, cut to Telegram's length limits."""

from __future__ import annotations

import html

from advisor.dialog.split import split_text

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024


def utf16_len(text: str) -> int:
    """Telegram counts message length in UTF-16 code units: an emoji may count twice."""
    return len(text.encode("utf-16-le")) // 2


def fits(text: str, limit: int) -> bool:
    return utf16_len(text.strip()) <= limit


def pieces(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Non-empty plain pieces, each within ``limit`` as Telegram measures it, cut on paragraphs."""
    result: list[str] = []
    for piece in split_text(text, limit):
        if not piece.strip():
            continue
        if fits(piece, limit):
            result.append(piece)
        else:
            # Characters outside the BMP count twice in UTF-16: half as many always fit.
            result.extend(p for p in split_text(piece, limit // 2) if p.strip())
    return result


def as_html(text: str) -> str:
    """Engine text is plain: escape it so nothing a user typed can become markup."""
    return html.escape(text, quote=False)
