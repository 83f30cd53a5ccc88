"""advisor.answers: the owner-question, intent and free-form-answer corpora replayed, and units.

The corpora live in tests/data/. Each replay prints its share and fails below 90%.
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from advisor.answers import (
    Answered,
    NoMatch,
    Profile,
    QuestionResult,
    TwoTopics,
    answer_question,
    answerer,
    button_label,
    classify_intent,
    find_numbers,
    intent_reply,
    match_choice,
    parse_number_phrase,
)
from advisor.answers import lexicon as lexicon_module
from advisor.answers import numbers as numbers_module
from advisor.answers.figures import compute
from advisor.answers.lexicon import LexiconError, load_lexicon
from advisor.dialog.types import Button
from advisor.knowledge.guide import guide_headings, is_heading
from advisor.knowledge.loader import load_knowledge
from advisor.knowledge.models import Fact
from advisor.texts import t

DATA = Path(__file__).parent / "data"
GUIDE_PATH = Path(__file__).resolve().parents[2] / "shared/guide/vk-promotion-guide.ru.txt"
MIN_SHARE = 0.9


def _load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _texts(result: QuestionResult) -> list[str]:
    """What the first reply shows: one answer, both close answers, or the honest no-match."""
    if isinstance(result, Answered):
        return [result.answer.text]
    if isinstance(result, TwoTopics):
        return [result.first.text, result.second.text]
    return [result.text]


def _report(capsys: pytest.CaptureFixture[str], line: str) -> None:
    with capsys.disabled():
        print(f"\n{line}")


@pytest.fixture(scope="module")
def guide_text() -> str:
    if not GUIDE_PATH.is_file():
        pytest.fail(f"the guide is missing: expected {GUIDE_PATH}")
    return GUIDE_PATH.read_text(encoding="utf-8")


# --- the owner-question corpus -------------------------------------------------------------------


def test_owner_questions_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    corpus = _load("owner_questions.yaml")["questions"]
    assert len(corpus) >= 150
    misses: list[str] = []
    two_topics = 0
    for item in corpus:
        result = answer_question(item["q"])
        two_topics += isinstance(result, TwoTopics)
        if not any(item["expect"].lower() in text.lower() for text in _texts(result)):
            misses.append(f"{item['q']!r}: wanted {item['expect']!r}, got {_texts(result)}")
    share = 1 - len(misses) / len(corpus)
    _report(
        capsys,
        f"owner questions answered: {len(corpus) - len(misses)}/{len(corpus)} = {share:.1%} "
        f"({two_topics} with two close topics)",
    )
    assert share >= MIN_SHARE, "\n".join(misses)


ISSUE_EXAMPLES = {
    "что написать в закрепе": "новых подписчиков",
    "через какую биржу безопаснее, чем напрямую": "мошенников",
    "как часто менять обложку": "каждый сезон",
    "сколько ждать модерацию в VK Рекламе": "в течение суток",
    "какие клипы снимать визажисту": "«Преображение»",
    "можно ли в конкурсе просить вступить в три группы": "подписываться на несколько групп",
    "можно ли менять таргетинг в запущенной кампании": "Не изменяйте параметры таргетинга",
    "денег на рекламу нет совсем — что делать": "бесплатно",
    "а сколько надо постов?": "3–5",
    "реклама у админа — её маркировать?": "токен в ОРД",
    "как набрать подписчиков бесплатно?": "бесплатно",
    "хэштеги": "устаревший",
    "кнкурс": "приз",
}


@pytest.mark.parametrize("question", sorted(ISSUE_EXAMPLES))
def test_issue_examples_get_their_fact(question: str) -> None:
    result = answer_question(question)
    assert not isinstance(result, NoMatch), question
    assert any(ISSUE_EXAMPLES[question] in text for text in _texts(result)), _texts(result)


# What the guide gives no number for: the answer says so, and what the bot can compute instead.
NO_NUMBER_IN_THE_GUIDE = {
    "сколько стоит реклама в пабликах?": ("Цен в руководстве нет", "оценка бота"),
    "сколько админу платить за пост": ("Цен в руководстве нет", "тысяча просмотров"),
    "бюджет 5000 рублей, что делать?": ("не делит бюджет", "одного рекламного поста"),
    "у меня 10 тысяч на рекламу, куда их потратить?": ("не делит бюджет", "таблицу"),
}


@pytest.mark.parametrize("question", sorted(NO_NUMBER_IN_THE_GUIDE))
def test_no_number_in_the_guide_is_said_honestly(question: str) -> None:
    texts = _texts(answer_question(question))
    for fragment in NO_NUMBER_IN_THE_GUIDE[question]:
        assert any(fragment in text for text in texts), (fragment, texts)


def test_off_topic_is_an_honest_no_match(capsys: pytest.CaptureFixture[str]) -> None:
    questions = _load("owner_questions.yaml")["off_topic"]
    answered = []
    for question in questions:
        result = answer_question(question)
        if isinstance(result, NoMatch):
            assert result.text == t("answers.no_match")
        else:
            answered.append(f"{question!r}: {_texts(result)}")
    share = 1 - len(answered) / len(questions)
    _report(
        capsys,
        f"off-topic questions honestly unanswered: {len(questions) - len(answered)}/"
        f"{len(questions)} = {share:.1%}",
    )
    assert share >= MIN_SHARE, "\n".join(answered)


@pytest.mark.parametrize("text", ["", "   ", "?", "!!!", "1234", "🙂", "а" * 5000, "\x00\x01"])
def test_bad_input_never_crashes(text: str) -> None:
    assert isinstance(answer_question(text), NoMatch)


@pytest.mark.parametrize(
    "text",
    [
        "скрыли " + "9" * 40 + " из " + "9" * 41 + " просмотров",
        "вовлеченность " + "9" * 30 + "% в группе на " + "9" * 30,
        "охват поста в группе на 10 в 20 степени подписчиков",
    ],
)
def test_absurd_numbers_fall_back_to_the_guides_fact(text: str) -> None:
    result = answer_question(text)
    assert isinstance(result, Answered | TwoTopics)


def test_random_messages_never_crash() -> None:
    """Messages glued from corpus words, number words, huge numbers and symbols: every function
    returns a result, none raises."""
    rng = random.Random(13)
    corpus = _load("owner_questions.yaml")["questions"]
    pool = [word for item in corpus for word in item["q"].split()]
    pool += ["9" * 40, "0", "-5", "1e9", "%", "100%", "тысяч", "полторы", "млн", "🙂", "\n"]
    pool += ["на", "из", "1,5", "2.5k", "от", "до", "-", "скрыли", "вовлеченность", "охват"]
    for _ in range(400):
        text = " ".join(rng.choice(pool) for _ in range(rng.randint(1, 12)))
        assert isinstance(answer_question(text), Answered | TwoTopics | NoMatch)
        classify_intent(text)
        match_choice(text, "goal")
        parse_number_phrase(text)


def test_answers_cite_guide_headings_and_offer_a_section(guide_text: str) -> None:
    headings = guide_headings(guide_text)
    knowledge = load_knowledge()
    steps = {(s.id, step.id) for s in knowledge.scenarios for step in s.steps}
    for item in _load("owner_questions.yaml")["questions"]:
        result = answer_question(item["q"])
        answers = [result.answer] if isinstance(result, Answered) else []
        if isinstance(result, TwoTopics):
            answers = [result.first, result.second]
            assert result.first.topic_id != result.second.topic_id
        for answer in answers:
            assert answer.section in headings, answer
            assert (answer.scenario_id, answer.step_id) in steps, answer
            if answer.estimate:
                assert "ориентир бота" in answer.text, answer.text


def test_every_topic_has_a_fact() -> None:
    bare = [topic.id for topic in load_knowledge().topics if not topic.facts]
    assert not bare, f"topics without a short answer: {bare}"


def test_every_fact_has_a_section_to_offer() -> None:
    knowledge = load_knowledge()
    scenarios = {s.id for s in knowledge.scenarios}
    entries = answerer().index.entries
    assert len(entries) == sum(len(topic.facts) for topic in knowledge.topics) >= 60
    for entry in entries:
        assert entry.scenario_id in scenarios, entry.fact.id


def test_button_labels_fit_the_platforms() -> None:
    for question in ISSUE_EXAMPLES:
        result = answer_question(question)
        answers = [result.answer] if isinstance(result, Answered) else []
        if isinstance(result, TwoTopics):
            answers = [result.first, result.second]
        for answer in answers:
            label = button_label(answer)
            assert answer.topic_title in label
            Button(label=label, payload="x")  # validates the length


# --- facts hold the guide's numbers --------------------------------------------------------------

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?(?:-\d+(?:[.,]\d+)?)?%?")


def _flat(text: str) -> str:
    """Dashes unified and digit groups joined: «50 000–100 000» → «50000-100000»."""
    for dash in ("–", "—", "‑"):
        text = text.replace(dash, "-")
    text = re.sub(r"(?<=\d)[ \u00a0](?=\d{3}(?!\d))", "", text)
    return re.sub(r"(?<=\d) ?- ?(?=\d)", "-", text)


def _sections(guide_text: str) -> dict[str, str]:
    sections: dict[str, str] = {}
    current = ""
    for line in guide_text.splitlines():
        if is_heading(line):
            current = line.strip()
            sections.setdefault(current, "")
        elif current:
            sections[current] += line + "\n"
    return sections


def test_fact_numbers_are_in_their_guide_section(guide_text: str) -> None:
    sections = {heading: _flat(body) for heading, body in _sections(guide_text).items()}
    missing: list[str] = []
    for topic in load_knowledge().topics:
        for fact in topic.facts:
            body = sections[fact.section]
            for number in _NUMBER.findall(_flat(fact.answer)):
                if not re.search(rf"(?<![\d.,]){re.escape(number)}(?!\d)", body):
                    missing.append(f"{fact.id}: {number} not in «{fact.section}»")
    assert not missing, "\n".join(missing)


def test_a_fact_answer_is_one_to_three_sentences() -> None:
    base = {"id": "x", "section": "Взаимопиар", "asks": ["как?"]}
    Fact.model_validate({**base, "answer": "Одно предложение с числом 3."})
    with pytest.raises(ValidationError, match="1–3 sentences"):
        Fact.model_validate({**base, "answer": "Раз. Два. Три. Четыре."})
    with pytest.raises(ValidationError, match="1–3 sentences"):
        Fact.model_validate({**base, "answer": "нет точки в конце и вообще"})


# --- numbers in the question compute the norm ----------------------------------------------------


@pytest.mark.parametrize("members", [1_500, 10_000, 40_000, 99_000])
def test_engagement_between_the_anchors_is_the_bots_estimate(members: int) -> None:
    result = answer_question(f"какая вовлеченность нужна для паблика на {members} подписчиков")
    assert isinstance(result, Answered)
    answer = result.answer
    assert answer.estimate
    assert "ориентир бота (в руководстве нормы нет)" in answer.text
    assert answer.section == "Подбор подходящих пабликов"


def test_engagement_norm_at_ten_thousand_is_nine_percent_estimate() -> None:
    result = answer_question("какая норма вовлеченности на 10 тысяч участников")
    assert isinstance(result, Answered)
    assert "около 9%" in result.answer.text


@pytest.mark.parametrize(
    ("question", "norm"),
    [
        ("какая вовлеченность нужна на 800 участников", "не ниже 15%"),
        ("какая вовлеченность нужна на 1000 участников", "не ниже 15%"),
        ("какая вовлеченность нужна в паблике на 100 000", "— 3%"),
        ("норма вовлеченности для группы на 2 млн", "— 3%"),
    ],
)
def test_engagement_at_the_guides_anchors_is_the_guides_norm(question: str, norm: str) -> None:
    result = answer_question(question)
    assert isinstance(result, Answered)
    assert not result.answer.estimate
    assert norm in result.answer.text
    assert "ориентир бота" not in result.answer.text


@pytest.mark.parametrize(
    ("question", "fragment"),
    [
        ("пост скрыли 15%", "в пределах нормы"),
        ("пост скрыли 20%", "в пределах нормы"),
        ("пост скрыли 21 процент", "больше 20%"),
        ("скрыли 5% просмотревших", "не больше 20%"),
        ("скрыли 50 человек из 1000 просмотров", "Скрытий 5%"),
    ],
)
def test_hide_rate_in_the_question_is_judged(question: str, fragment: str) -> None:
    result = answer_question(question)
    assert isinstance(result, Answered)
    assert result.answer.fact_id == "hide_rate_norm"
    assert fragment in result.answer.text


@pytest.mark.parametrize(
    ("question", "fragment"),
    [
        ("неактивных подписчиков 5% это нормально", "меньше обычных"),
        ("неактивных подписчиков 15% это нормально", "в пределах нормы"),
        ("неактивных подписчиков 23% это нормально", "боты"),
        ("неактивных подписчиков 25% это нормально", "бессмысленно"),
    ],
)
def test_inactive_share_in_the_question_is_judged(question: str, fragment: str) -> None:
    result = answer_question(question)
    assert isinstance(result, Answered)
    assert result.answer.fact_id == "inactive_norm"
    assert fragment in result.answer.text


def test_without_numbers_the_fact_is_the_guides_text() -> None:
    result = answer_question("какая нормальная вовлеченность")
    assert isinstance(result, Answered)
    fact = next(f for topic in load_knowledge().topics for f in topic.facts if f.id == "er_norm")
    assert result.answer.text == fact.answer


def test_compute_ignores_numbers_that_do_not_fit() -> None:
    norms = load_knowledge().norms
    assert compute("engagement", find_numbers("в 3 группы"), norms) is None
    assert compute("hide_rate", find_numbers("на 40 тысяч"), norms) is None
    assert compute("inactive", [], norms) is None


def test_profile_adds_the_topics_tailored_advice() -> None:
    topic = load_knowledge().topic("group_design")
    result = answer_question("что разместить на обложке", Profile(community_type="commercial"))
    assert isinstance(result, Answered)
    assert result.answer.tailored == topic.tailored["commercial"]
    plain = answer_question("что разместить на обложке")
    assert isinstance(plain, Answered) and plain.answer.tailored is None


def test_two_close_topics_are_both_offered() -> None:
    result = answer_question("а сколько надо постов?")
    assert isinstance(result, TwoTopics)
    assert result.first.scenario_id != result.second.scenario_id
    assert result.intro == t("answers.two_topics")


# --- intents -------------------------------------------------------------------------------------


def test_intents_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    corpus = _load("intents.yaml")["intents"]
    misses = [
        f"{item['text']!r}: wanted {item['expect']}, got {got}"
        for item in corpus
        if (got := classify_intent(item["text"])) != item["expect"]
    ]
    share = 1 - len(misses) / len(corpus)
    _report(capsys, f"intents recognised: {len(corpus) - len(misses)}/{len(corpus)} = {share:.1%}")
    assert share >= MIN_SHARE, "\n".join(misses)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("помогите", "help"),
        ("что ты умеешь", "help"),
        ("с чего начать?", "help"),
        ("отмена", "cancel"),
        ("стоп", "cancel"),
        ("выход", "cancel"),
        ("How can I promote my shop?", "english"),
        ("🙂🙂", "emoji"),
    ],
)
def test_issue_intents(text: str, intent: str) -> None:
    assert classify_intent(text) == intent


def test_every_intent_has_a_russian_reply() -> None:
    for intent in ("help", "cancel", "back", "restart", "greeting", "thanks", "english", "emoji"):
        reply = intent_reply(intent)  # type: ignore[arg-type]
        assert re.search(r"[а-яё]", reply), intent
    assert "сохранено" in intent_reply("cancel")


# --- free-form answers to choices and numbers ----------------------------------------------------


def test_free_answers_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    data = _load("free_answers.yaml")
    choices, numbers = data["choices"], data["numbers"]
    assert len(choices) + len(numbers) >= 60
    misses: list[str] = []
    for item in choices:
        match = match_choice(item["text"], item["kind"])
        if match is None or match.option_id != item["expect"]:
            misses.append(f"{item['text']!r}: wanted {item['expect']}, got {match}")
    for item in numbers:
        parsed = parse_number_phrase(item["text"])
        want_percent = item.get("percent", False)
        if parsed is None or parsed.value != item["expect"] or parsed.percent != want_percent:
            misses.append(f"{item['text']!r}: wanted {item['expect']}, got {parsed}")
    total = len(choices) + len(numbers)
    share = 1 - len(misses) / total
    _report(capsys, f"free-form answers understood: {total - len(misses)}/{total} = {share:.1%}")
    assert share >= MIN_SHARE, "\n".join(misses)


def test_choice_titles_match_themselves() -> None:
    knowledge = load_knowledge()
    for item in knowledge.community_types:
        match = match_choice(item.title, "community_type")
        assert match is not None and match.option_id == item.id
    for goal in knowledge.goals:
        match = match_choice(goal.title, "goal")
        assert match is not None and match.option_id == goal.id


@pytest.mark.parametrize("text", ["коммерческое или творческое", "не знаю", "", "🙂", "да"])
def test_choice_unclear_is_none(text: str) -> None:
    assert match_choice(text, "community_type") is None


@pytest.mark.parametrize("text", ["пять шесть", "не знаю", "", "в 2023 году было 400", "много"])
def test_number_phrase_unclear_is_none(text: str) -> None:
    assert parse_number_phrase(text) is None


def test_every_number_word_is_found() -> None:
    for word in (*numbers_module._UNITS, *numbers_module._MULTIPLIERS):
        mentions = find_numbers(f"примерно {word} человек")
        assert mentions, word


def test_approximations_are_marked() -> None:
    assert parse_number_phrase("около 400") == parse_number_phrase("примерно 400")
    parsed = parse_number_phrase("около 400")
    assert parsed is not None and parsed.approximate
    exact = parse_number_phrase("400")
    assert exact is not None and not exact.approximate


# --- the lexicon fails loudly --------------------------------------------------------------------


def test_malformed_lexicon_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "zz"
    folder.mkdir()
    (folder / "lexicon.yaml").write_text("synonyms: []\nintents: {nonsense: [x]}\n", "utf-8")
    monkeypatch.setattr(lexicon_module, "LEXICON_DIR", tmp_path)
    load_lexicon.cache_clear()
    try:
        with pytest.raises(LexiconError, match=r"lexicon\.yaml"):
            load_lexicon("zz")
    finally:
        load_lexicon.cache_clear()
