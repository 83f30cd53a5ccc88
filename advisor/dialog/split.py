"""Splits a long reply into messages under a platform's length limit, on natural boundaries."""

from __future__ import annotations


def _cut(text: str, limit: int) -> int:
    """Where to end the first piece: the last paragraph, line, sentence or word break that fits."""
    window = text[:limit]
    for separator in ("\n\n", "\n", ". ", " "):
        position = window.rfind(separator)
        if position > limit // 3:
            return position + len(separator)
    return limit


def split_text(text: str, limit: int = 4096) -> list[str]:
    """Pieces of at most ``limit`` characters that join back into the text (modulo edge spaces)."""
    if limit < 16:
        raise ValueError("limit is too small to split sensibly")
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        end = _cut(rest, limit)
        pieces.append(rest[:end].rstrip())
        rest = rest[end:].lstrip()
    if rest or not pieces:
        pieces.append(rest)
    return pieces
