from __future__ import annotations

import pytest

from advisor.dialog.split import split_text


def test_short_text_is_one_piece() -> None:
    assert split_text("привет", 100) == ["привет"]
    assert split_text("", 100) == [""]


def test_splits_on_paragraphs_first() -> None:
    paragraph = "слово " * 30
    text = "\n\n".join([paragraph.strip()] * 10)
    pieces = split_text(text, 400)
    assert all(len(p) <= 400 for p in pieces)
    assert all(p.endswith("слово") for p in pieces)
    assert "".join(pieces).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace(
        "\n", ""
    )


def test_one_huge_word_is_cut_hard() -> None:
    pieces = split_text("я" * 10_000, 4096)
    assert [len(p) for p in pieces] == [4096, 4096, 1808]


@pytest.mark.parametrize("limit", [16, 50, 4096])
def test_no_piece_exceeds_limit(limit: int) -> None:
    text = ("Предложение номер один. " * 500) + "\n" + ("строка\n" * 300)
    assert all(0 < len(p) <= limit for p in split_text(text, limit))
