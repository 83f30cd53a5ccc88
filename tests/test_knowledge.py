"""Knowledge data: every file parses, cites real guide headings, covers the guide, fails loudly."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from advisor.knowledge.guide import GUIDE_ENV, find_guide, guide_headings, is_heading
from advisor.knowledge.loader import (
    KNOWLEDGE_DIR,
    KnowledgeError,
    load_from,
    load_knowledge,
    parse_file,
)
from advisor.knowledge.models import (
    Checklist,
    CommunityType,
    Goal,
    Questionnaire,
    Topic,
)

GUIDE_PATH = Path(__file__).resolve().parents[2] / "shared/guide/vk-promotion-guide.ru.txt"
RU_DIR = KNOWLEDGE_DIR / "ru"
KNOWLEDGE_FILES = sorted(RU_DIR.glob("*.yaml"))
# The guide-content files checked for coverage; norms, formulas, contest and scenarios have
# their own owners and tests.
CONTENT_FILES = ["community.yaml", "checklists.yaml", "audience.yaml"]
TOPIC_FILES = [
    "topics_prepare.yaml",
    "topics_publics.yaml",
    "topics_placement.yaml",
    "topics_free.yaml",
    "topics_contests.yaml",
    "topics_results.yaml",
]

GUIDE_HEADINGS = {
    "Способы продвижения в ВК",
    "Подготовка к запуску рекламы сообщества в VK",
    "Оформление группы",
    "Определение ЦА",
    "Подбор подходящих пабликов",
    "Как размещать рекламу в группах ВК",
    "Напрямую через администратора",
    "Биржа рекламы ВКонтакте",
    "Сторонние биржи рекламы",
    "Запуск кампании через VK Реклама",
    "Как бесплатно рекламировать сообщество в ВК",
    "Рассылка в личные сообщения",
    "Бесплатные группы ВКонтакте для размещения рекламы",
    "Общение в других группах",
    "Написание статей и постов под поисковые запросы",
    "Включение поисковых запросов в название группы или описание",
    "Использование хештегов",
    "Публикация историй, клипов, видеороликов",
    "Взаимопиар",
    "Организация конкурсов и розыгрышей",
    "Оценка эффективности рекламы сообщества",
    "Заключение",
}


# --- helpers ------------------------------------------------------------------------------------


def _norm(text: str) -> str:
    """Dashes and spaces unified, so "3–5" in the data matches "3-5" in a check."""
    for dash in ("–", "—", "‑"):
        text = text.replace(dash, "-")
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def cited_sections(node: Any, where: str = "") -> Iterator[tuple[str, Any]]:
    """Every ``section`` value anywhere in a parsed YAML tree, with its path."""
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{where}.{key}" if where else str(key)
            if key == "section":
                yield path, value
            yield from cited_sections(value, path)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from cited_sections(value, f"{where}[{index}]")


def topic_text(topic: Topic) -> str:
    parts = [topic.title, topic.summary, *topic.tailored.values()]
    for block in topic.blocks:
        parts.extend([block.title or "", *block.items])
    return _norm("\n".join(parts))


@dataclass
class Content:
    types: dict[str, CommunityType] = field(default_factory=dict)
    goals: dict[str, Goal] = field(default_factory=dict)
    checklists: dict[str, Checklist] = field(default_factory=dict)
    questionnaires: dict[str, Questionnaire] = field(default_factory=dict)
    topics: dict[str, Topic] = field(default_factory=dict)


@pytest.fixture(scope="module")
def guide_text() -> str:
    if not GUIDE_PATH.is_file():
        pytest.fail(
            f"the guide is missing: expected {GUIDE_PATH} "
            "(the repository must sit next to shared/guide/)"
        )
    return GUIDE_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def headings(guide_text: str) -> set[str]:
    return guide_headings(guide_text)


@pytest.fixture(scope="module")
def content() -> Content:
    """The guide-content files merged, independent of files other engineers own."""
    merged = Content()
    for name in CONTENT_FILES + TOPIC_FILES:
        part = parse_file(RU_DIR / name)
        for kind, items in (
            ("types", part.community_types),
            ("goals", part.goals),
            ("checklists", part.checklists),
            ("questionnaires", part.questionnaires),
            ("topics", part.topics),
        ):
            target: dict[str, Any] = getattr(merged, kind)
            for item in items:
                assert item.id not in target, f"{name}: duplicate {kind} id {item.id!r}"
                target[item.id] = item
    return merged


# --- (1) every file parses ----------------------------------------------------------------------


def test_knowledge_files_exist() -> None:
    names = {path.name for path in KNOWLEDGE_FILES}
    missing = set(CONTENT_FILES + TOPIC_FILES) - names
    assert not missing, f"knowledge files missing in {RU_DIR}: {sorted(missing)}"


@pytest.mark.parametrize("path", KNOWLEDGE_FILES, ids=lambda p: p.name)
def test_file_parses(path: Path) -> None:
    parse_file(path)


# --- (2) every cited section is a guide heading ------------------------------------------------


def test_guide_headings_of_the_real_guide(guide_text: str) -> None:
    assert guide_headings(guide_text) == GUIDE_HEADINGS


def test_guide_headings_are_whole_lines(guide_text: str, headings: set[str]) -> None:
    lines = {line.strip() for line in guide_text.splitlines()}
    assert headings <= lines


def test_guide_headings_skip_prose_and_lists() -> None:
    text = "\n".join(
        [
            "Первый раздел",
            "Обычное предложение с точкой.",
            "- пункт списка без точки",
            "Шаг 1. Сделайте что-то",
            "Вот список:",
            "Когда материалы проверят, запись переместится во вкладку «Активные»",
            "  Второй раздел  ",
            "",
            "строчная строка без точки",
            "Очень длинная строка без точки в конце, которая явно не является заголовком "
            "раздела, потому что слишком длинная",
        ]
    )
    assert guide_headings(text) == {"Первый раздел", "Второй раздел"}
    assert not is_heading("")


def test_find_guide_default_is_next_to_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(GUIDE_ENV, raising=False)
    if not GUIDE_PATH.is_file():
        pytest.fail(f"the guide is missing: expected {GUIDE_PATH}")
    assert find_guide() == GUIDE_PATH


def test_find_guide_honours_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    guide = tmp_path / "guide.txt"
    guide.write_text("Заголовок\nТекст.\n", encoding="utf-8")
    monkeypatch.setenv(GUIDE_ENV, str(guide))
    assert find_guide() == guide


def test_find_guide_missing_is_clear(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.txt"
    monkeypatch.setenv(GUIDE_ENV, str(missing))
    with pytest.raises(FileNotFoundError, match=re.escape("nowhere.txt")):
        find_guide()


def test_cited_sections_walks_nested_data() -> None:
    data = {"section": "A", "items": [{"section": "B", "blocks": [{"section": "C"}]}], "x": 1}
    assert [value for _, value in cited_sections(data)] == ["A", "B", "C"]


@pytest.mark.parametrize("path", KNOWLEDGE_FILES, ids=lambda p: p.name)
def test_sections_are_guide_headings(path: Path, headings: set[str]) -> None:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    cited = list(cited_sections(raw))
    assert cited, f"{path.name} cites no guide section"
    bad = [
        f"{where}: {value!r}"
        for where, value in cited
        if value is not None and (not isinstance(value, str) or value not in headings)
    ]
    assert not bad, f"{path.name}: sections that are not guide headings:\n" + "\n".join(bad)


# --- (3) the whole knowledge base loads --------------------------------------------------------


def test_full_knowledge_loads() -> None:
    load_knowledge.cache_clear()
    knowledge = load_knowledge()
    assert knowledge.checklist("readiness").items
    assert knowledge.questionnaire("audience").questions
    assert {c.id for c in knowledge.community_types} == {
        "commercial",
        "creative",
        "brand",
        "events",
    }
    assert knowledge.topic("vk_ads").section == "Запуск кампании через VK Реклама"


# --- (4) coverage of the guide ------------------------------------------------------------------


def test_four_community_types(content: Content) -> None:
    assert set(content.types) == {"commercial", "creative", "brand", "events"}


def test_goals(content: Content) -> None:
    assert {"local_subscribers", "sales_any_region", "small_active"} <= set(content.goals)


def test_ids_cross_reference(content: Content) -> None:
    types, goals, topics = set(content.types), set(content.goals), set(content.topics)
    assert not types & goals
    for topic in content.topics.values():
        assert set(topic.related) <= topics, f"{topic.id}: unknown related"
        assert set(topic.tailored) <= types | goals, f"{topic.id}: unknown tailored keys"
        assert topic.id not in topic.related, f"{topic.id} relates to itself"
    for checklist in content.checklists.values():
        for item in checklist.items:
            assert set(item.applies_to + item.mandatory_for) <= types, item.id
            assert set(item.mandatory_for) <= set(item.applies_to or types), item.id


def test_every_type_and_goal_tailors_some_topic(content: Content) -> None:
    keys = {key for topic in content.topics.values() for key in topic.tailored}
    assert set(content.types) | set(content.goals) <= keys


def test_every_guide_heading_has_a_topic(content: Content) -> None:
    cited = set()
    for topic in content.topics.values():
        cited.add(topic.section)
        cited.update(block.section for block in topic.blocks if block.section)
    assert cited >= GUIDE_HEADINGS, f"guide parts without a topic: {GUIDE_HEADINGS - cited}"


READINESS_ITEMS = {
    "cover": ["название", "категори", "преимуществ", "контакт", "сезон", "стиль"],
    "info_block": ["кто вы", "чем занимаетесь", "заказ", "правила", "администратор", "контакт"],
    "interactive_menu": ["меню"],
    "links_contacts": ["сайт", "офлайн"],
    "goods": ["Товары", "коммерци"],
    "media_sections": ["клип", "видео", "стать", "фотоальбом"],
    "starter_posts": ["3-5", "разном стиле"],
    "pinned_post": ["закреп", "новых подписчиков"],
}


@pytest.mark.parametrize("item_id", sorted(READINESS_ITEMS))
def test_readiness_item(content: Content, item_id: str) -> None:
    items = {item.id: item for item in content.checklists["readiness"].items}
    assert item_id in items, f"readiness checklist lacks {item_id}"
    item = items[item_id]
    text = _norm(" ".join([item.title, item.question, item.advice, *item.details])).lower()
    missing = [needle for needle in READINESS_ITEMS[item_id] if needle.lower() not in text]
    assert not missing, f"readiness.{item_id} does not mention {missing}"


def test_readiness_goods_mandatory_for_commercial(content: Content) -> None:
    goods = next(i for i in content.checklists["readiness"].items if i.id == "goods")
    assert "commercial" in goods.mandatory_for
    assert "commercial" in (goods.applies_to or content.types)


def test_readiness_weights_order_by_impact(content: Content) -> None:
    items = content.checklists["readiness"].items
    weights = {item.id: item.weight for item in items}
    assert len(set(weights.values())) > 1, "weights must differ to order the to-do list"
    # The guide: an ad does not work at all without 3–5 posts in the feed.
    assert weights["starter_posts"] == max(weights.values())
    assert weights["interactive_menu"] < weights["cover"]


def test_public_check_checklist(content: Content) -> None:
    ids = {item.id for item in content.checklists["public_check"].items}
    assert {"engagement", "padding", "inactive", "unsubscribes", "reach", "owner_stats"} <= ids


def test_audience_questionnaire(content: Content) -> None:
    audience = content.questionnaires["audience"]
    assert {q.id for q in audience.questions} >= {
        "interests",
        "needs",
        "sex_age",
        "region_devices",
        "where_to_find",
    }
    looks = " ".join(audience.where_to_look)
    assert "«Статистика» → «Посещаемость»" in looks
    assert "ГЕО" in looks


TOPIC_NEEDLES: dict[str, list[str]] = {
    # choosing publics
    "publics_selection": ["несколько", "владельц"],
    "public_engagement": ["лайки, репосты, комментарии", "× 100%", "1000", "15%", "100 000", "3%"],
    "public_padding": ["5 000", "2-3%", "накрутк"],
    "public_inactive": ["10-20%", "25-30%", "бессмысленно", "боты"],
    "public_unsubscribes": ["отписок", "скачок"],
    "public_reach": ["5-7", "10-20%", "× 100%", "500 000", "50 000-100 000"],
    "public_owner_stats": ["владельц"],
    # placement
    "placement_methods": ["промаркирована"],
    "ad_marking": ["промаркирована", "ОРД", "токен", "реестр"],
    "direct_admin": [
        "контакты администратора",
        "коммерческое предложение",
        "договор оказания услуг",
        "на утверждение",
        "токен в ОРД",
        "одного поста",
        "мошенник",
    ],
    "direct_followup": ["несколько дней", "меньше 5%"],
    "vk_exchange": [
        "безопасн",
        "сэкономить",
        "сторонними сервисами",
        "подбирать площадки",
        "диапазон времени",
        "часовому поясу",
        "«Активные»",
        "исключить",
    ],
    "third_party_exchanges": ["20-25%", "3-5", "менеджер", "новички", "серого контента"],
    "vk_ads": [
        "«Создать кампанию»",
        "150 ₽ в день",
        "ГЕО",
        "пол и возраст",
        "интерес",
        "призывом к действию",
        "модерацию",
        "в течение суток",
        "разные варианты",
    ],
    # free promotion
    "free_promotion": ["экономия бюджета", "спам", "платную рекламу", "минимальный бюджет"],
    "mailing": [
        "Senler",
        "Gandy Mail",
        "3 дня",
        "не должны быть одинаковыми",
        "перерыв",
        "представьтесь",
        "только свою группу",
        "Здравствуйте, *Имя*!",
    ],
    "free_ad_boards": [
        "малоэффективно",
        "подписаться",
        "репостнуть",
        "забанят",
        "100",
        "взаимоподписк",
    ],
    "thematic_comments": [
        "небольшие паблики",
        "правила сообщества",
        "Очень тонкая работа",
        "несколько миллионов",
    ],
    "search_posts": ["Wordstat", "Яндекс", "Google"],
    "name_keywords": [
        "город",
        "Семейный психолог Афанасьева Мария",
        "Автомастерская Ростов-на-Дону",
        "Салон красоты Тверь",
        "Вордстат",
    ],
    "hashtags": ["устаревший", "#Полезныйсовет@salon_monespb", "1898", "#рубрика@"],
    "stories": ["чужие истории", "вверху"],
    "clips": ["750 млн", "виральн", "Преображение"],
    "long_videos": ["рекомендации"],
    "mutual_pr": ["того же размера", "ниши", "конкурент", "1-2"],
    # contests
    "contests": ["приз", "историях", "репост", "победитель должен быть подписан"],
    "contest_rules": [
        "Отмечать друзей под постом",
        "Подписываться на несколько групп",
        "Добавлять в друзья личную страницу админа",
    ],
    "creative_contests": ["дизайн упаковки", "слоган", "«Сода»", "Прятки с содой"],
    "contest_hunters": ["только одна публикация", "чище"],
    # results
    "results_overview": ["«Кампании»"],
    "campaign_stats": ["«Кампании»", "переходов", "вступило", "охват"],
    "exchange_stats": ["потрачено", "удалена"],
    "compare_creatives": ["креатив", "охватов и подписчиков"],
    "vk_ads_tips": [
        "алгоритмам",
        "одинаковый таргетинг",
        "видео и фото",
        "Не меняйте параметры таргетинга",
    ],
    "analytics_services": ["JagaJam", "LiveDune", "Popsters", "таблиц"],
    "tracking_table": [
        "ссылка на пост",
        "бюджет",
        "период размещения",
        "рекламная группа",
        "просмотров, переходов и подписок",
    ],
    "admin_stats": ["перешло", "вступило", "скрыло", "охват", "лайков и репостов"],
    "hide_rate": ["10-20%", "креатив или группу"],
    "conclusion": ["закупать рекламу", "стартап", "бан", "Клип"],
    # preparation
    "why_vk": ["104,2 млн", "86%", "56%"],
    "prepare_overview": ["тип", "цель", "пустое"],
    "group_design": ["обложк", "интерактивном меню", "Товары", "офлайн"],
    "starter_content": ["3-5", "Закрепите"],
    "audience_portrait": ["интересы", "потребности", "пол и возраст", "ГЕО"],
    "audience_stats": ["«Статистика» → «Посещаемость»"],
}


@pytest.mark.parametrize("topic_id", sorted(TOPIC_NEEDLES))
def test_topic_covers_guide(content: Content, topic_id: str) -> None:
    assert topic_id in content.topics, f"no topic {topic_id}"
    text = topic_text(content.topics[topic_id]).lower()
    missing = [needle for needle in TOPIC_NEEDLES[topic_id] if _norm(needle).lower() not in text]
    assert not missing, f"topic {topic_id} does not mention {missing}"


def test_block_shapes(content: Content) -> None:
    def kinds(topic_id: str) -> dict[str, list[list[str]]]:
        found: dict[str, list[list[str]]] = {}
        for block in content.topics[topic_id].blocks:
            found.setdefault(block.kind, []).append(block.items)
        return found

    assert len(kinds("direct_admin")["steps"][0]) == 5
    assert len(kinds("third_party_exchanges")["pros"][0]) == 6
    assert len(kinds("vk_ads_tips")["tips"][0]) == 4
    assert len(kinds("tracking_table")["list"][0]) == 5
    assert len(kinds("free_promotion")["pros"][0]) == 5
    assert len(kinds("free_promotion")["cons"][0]) == 4
    assert "template" in kinds("mailing")
    assert len(kinds("contest_rules")["warning"][0]) == 3


def test_tailored_advice_where_the_guide_differs(content: Content) -> None:
    assert "commercial" in content.topics["group_design"].tailored
    assert "local_subscribers" in content.topics["name_keywords"].tailored
    assert {"local_subscribers", "sales_any_region", "small_active"} <= set(
        content.topics["vk_ads"].tailored
    )


# --- (5) a malformed file fails loudly ---------------------------------------------------------


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


BAD_WEIGHT = """
checklists:
  - id: readiness
    title: Готовность
    section: Оформление группы
    intro: Проверим.
    items:
      - id: cover
        title: Обложка
        section: Оформление группы
        question: Есть обложка?
        advice: Сделайте обложку.
        weight: 42
"""

MISSING_FIELD = """
topics:
  - id: clips
    title: Клипы
    section: Публикация историй, клипов, видеороликов
    blocks:
      - kind: text
        items: ["Снимайте клипы."]
"""


def test_malformed_field_names_file_and_field(tmp_path: Path) -> None:
    _write(tmp_path, "broken_checklist.yaml", BAD_WEIGHT)
    with pytest.raises(KnowledgeError) as caught:
        load_from(tmp_path)
    message = str(caught.value)
    assert "broken_checklist.yaml" in message
    assert "checklists.0.items.0.weight" in message


def test_missing_field_names_file_and_field(tmp_path: Path) -> None:
    _write(tmp_path, "broken_topics.yaml", MISSING_FIELD)
    with pytest.raises(KnowledgeError) as caught:
        load_from(tmp_path)
    message = str(caught.value)
    assert "broken_topics.yaml" in message
    assert "topics.0.summary" in message


def test_unknown_field_is_rejected(tmp_path: Path) -> None:
    text = (RU_DIR / "audience.yaml").read_text(encoding="utf-8")
    _write(tmp_path, "audience.yaml", text.replace("    intro: >-", "    introduction: >-", 1))
    with pytest.raises(KnowledgeError) as caught:
        load_from(tmp_path)
    message = str(caught.value)
    assert "audience.yaml" in message
    assert "questionnaires.0.introduction" in message


def test_invalid_yaml_names_file(tmp_path: Path) -> None:
    _write(tmp_path, "not_yaml.yaml", "topics: [unclosed\n  - id: x")
    with pytest.raises(KnowledgeError, match=re.escape("not_yaml.yaml")):
        load_from(tmp_path)


def test_non_mapping_names_file(tmp_path: Path) -> None:
    _write(tmp_path, "a_list.yaml", "- one\n- two\n")
    with pytest.raises(KnowledgeError, match=re.escape("a_list.yaml")):
        load_from(tmp_path)


def test_bad_file_among_good_ones(tmp_path: Path) -> None:
    for name in CONTENT_FILES + TOPIC_FILES:
        _write(tmp_path, name, (RU_DIR / name).read_text(encoding="utf-8"))
    _write(tmp_path, "zz_broken.yaml", BAD_WEIGHT)
    with pytest.raises(KnowledgeError, match=re.escape("zz_broken.yaml")):
        load_from(tmp_path)
