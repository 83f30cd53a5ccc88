"""Links to publics: every form a person pastes, and a Russian explanation for everything else."""

from __future__ import annotations

import pytest

from advisor.vk.links import LinkError, PublicRef, extract_links, parse_link

BY_NAME = PublicRef(screen_name="coffee_lovers")
BY_ID = PublicRef(group_id=123)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://vk.com/coffee_lovers", BY_NAME),
        ("http://vk.com/coffee_lovers", BY_NAME),
        ("https://vk.ru/coffee_lovers", BY_NAME),
        ("https://m.vk.com/coffee_lovers", BY_NAME),
        ("https://m.vk.ru/coffee_lovers", BY_NAME),
        ("https://www.vk.com/coffee_lovers", BY_NAME),
        ("www.vk.ru/coffee_lovers", BY_NAME),
        ("vk.com/coffee_lovers", BY_NAME),
        ("m.vk.com/coffee_lovers", BY_NAME),
        ("https://vk.com/coffee_lovers/", BY_NAME),
        ("https://vk.com/coffee_lovers///", BY_NAME),
        ("https://vk.com/coffee_lovers?from=groups&utm_source=x", BY_NAME),
        ("https://vk.com/coffee_lovers#wall", BY_NAME),
        ("HTTPS://VK.COM/Coffee_Lovers", BY_NAME),
        ("@coffee_lovers", BY_NAME),
        ("coffee_lovers", BY_NAME),
        ("  coffee_lovers  ", BY_NAME),
        ("vk.me/coffee_lovers", BY_NAME),
        ("https://vk.com/@coffee_lovers-kak-varit-kofe", BY_NAME),
        ("club123", BY_ID),
        ("public123", BY_ID),
        ("event123", BY_ID),
        ("vk.com/club123", BY_ID),
        ("https://vk.com/public123/", BY_ID),
        ("https://m.vk.com/event123?act=info", BY_ID),
        ("-123", BY_ID),
        ("123", BY_ID),
        ("[club123|Кофейня]", BY_ID),
        ("https://vk.com/board123", BY_ID),
        ("https://vk.com/photo-123_456789", BY_ID),
        ("https://vk.com/coffee_lovers?z=photo-123_456%2Falbum-123_0", BY_ID),
        # Spaces, Cyrillic and punctuation around the link.
        ("Вот паблик: vk.com/coffee_lovers, гляньте", BY_NAME),
        ("«https://vk.com/coffee_lovers»", BY_NAME),
        ("стоит ли брать рекламу в vk.com/coffee_lovers?", BY_NAME),
        ("(vk.com/coffee_lovers).", BY_NAME),
        ("паблик @coffee_lovers норм?", BY_NAME),
        ("что скажешь про club123?", BY_ID),
        ("ivan.petrov_shop", PublicRef(screen_name="ivan.petrov_shop")),
    ],
)
def test_community_link_forms(text: str, expected: PublicRef) -> None:
    assert parse_link(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "https://vk.com/wall-123_456",
        "vk.com/wall-123_456",
        "https://m.vk.com/wall-123_456?reply=7",
        "https://vk.com/feed?w=wall-123_456",
        "https://vk.com/coffee_lovers?w=wall-123_456",
        "https://vk.com/club123?w=wall-123_456%2Fall",
        "глянь пост https://vk.com/wall-123_456 — норм?",
    ],
)
def test_post_link_means_its_public(text: str) -> None:
    ref = parse_link(text)
    assert ref.group_id == 123
    assert ref.post_id == 456
    assert ref.key == "id123"


@pytest.mark.parametrize(
    ("text", "code", "problem", "mentions"),
    [
        ("https://vk.com/id1", "not_a_community", "person", "человека"),
        ("vk.com/id1?w=wall1_2", "not_a_community", "person", "человека"),
        ("https://vk.com/wall1_45", "not_a_community", "person", "человека"),
        ("https://vk.com/app123", "not_a_community", "app", "приложение"),
        ("vk.com/app7_-123", "not_a_community", "app", "приложение"),
        ("https://t.me/coffee", "invalid_link", "not_vk", "t.me"),
        ("https://instagram.com/coffee", "invalid_link", "not_vk", "instagram.com"),
        ("coffee-shop.ru", "invalid_link", "not_vk", "coffee-shop.ru"),
        ("https://vk.com/feed", "invalid_link", "vk_page", "feed"),
        ("https://vk.com/", "invalid_link", "vk_page", "vk.com"),
        ("https://dev.vk.com/method/wall.get", "invalid_link", "vk_page", "dev.vk.com"),
        ("https://vk.cc/abc12", "invalid_link", "short_link", "vk.cc"),
        ("привет, как дела", "invalid_link", "garbage", "привет"),
        ("кофейня", "invalid_link", "garbage", "кофейня"),
        ("!!!", "invalid_link", "garbage", "!!!"),
        ("0", "invalid_link", "garbage", "vk.com"),
        ("", "invalid_link", "empty", "vk.com"),
        ("   ", "invalid_link", "empty", "vk.com"),
        ("x" * 5000, "invalid_link", "too_long", "ссылку"),
    ],
)
def test_non_community_input_is_explained(
    text: str, code: str, problem: str, mentions: str
) -> None:
    with pytest.raises(LinkError) as caught:
        parse_link(text)
    error = caught.value
    assert (error.code, error.problem) == (code, problem)
    assert mentions in error.message
    # Every explanation is Russian and says what to send instead.
    assert "vk.com/" in error.message or problem == "too_long"
    assert any("а" <= ch <= "я" for ch in error.message.lower())


def test_extract_links_from_a_question() -> None:
    text = (
        "Сравни vk.com/first и https://m.vk.com/second?from=feed, а ещё @third_public, club44 "
        "и [public55|Пятый]. Почта shop@mail.ru не ссылка; vk.com/first повторно."
    )
    assert extract_links(text) == [
        "vk.com/first",
        "https://m.vk.com/second?from=feed",
        "@third_public",
        "club44",
        "public55",
    ]


def test_extract_links_ignores_look_alikes() -> None:
    assert extract_links("notvk.com/x, vk.community.org, просто текст без ссылок") == []
    assert extract_links("пишите на a@vk.com") == []


def test_extracted_links_parse() -> None:
    text = "стоит ли брать рекламу в vk.com/coffee_lovers? или лучше в https://vk.com/wall-9_1"
    refs = [parse_link(link) for link in extract_links(text)]
    assert refs == [BY_NAME, PublicRef(group_id=9, post_id=1)]


def test_ref_needs_exactly_one_target() -> None:
    with pytest.raises(ValueError):
        PublicRef()
    with pytest.raises(ValueError):
        PublicRef(group_id=1, screen_name="x")
