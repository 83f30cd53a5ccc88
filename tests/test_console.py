"""The console chat as a real process, driven through a pipe like a script would."""

from __future__ import annotations

import io
import os
import pty
import select
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def console_env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("VK_", "TELEGRAM_", "DATABASE_", "REDIS_"))
    }
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}"
    env["PYTHONPATH"] = str(REPO)
    return env


def run_chat(tmp_path: Path, lines: list[str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=console_env(tmp_path),
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def choice(output: str, label: str) -> str:
    """The number the console printed last for a button with this label."""
    number = None
    for line in output.splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith(f"] {label}"):
            number = stripped[1 : stripped.index("]")]
    assert number is not None, f"no choice {label!r} in output:\n{output[-2000:]}"
    return number


def test_plain_command_runs_console_chat_without_tokens(tmp_path: Path) -> None:
    output = run_chat(tmp_path, ["/start"])
    # Greeted once: the /start typed first repeats the opening greeting, so it is not shown again.
    assert output.count("Здравствуйте") == 1
    assert "[1]" in output
    # Later in the conversation /start is heard: back to the greeting and the menu.
    assert run_chat(tmp_path, ["1", "/start"]).count("Здравствуйте") == 2


def test_first_start_says_where_the_database_is(tmp_path: Path) -> None:
    first = run_chat(tmp_path, ["/start"])
    database = (tmp_path / "chat.db").resolve()
    assert f"Создал базу данных: {database}" in first and "DATABASE_URL" in first
    assert "Создал базу данных" not in run_chat(tmp_path, ["/start"])


def test_charts_and_exports_get_files_of_their_own(tmp_path: Path) -> None:
    from advisor.dialog.types import Document, Image, Outgoing
    from bot.console import ConsoleChat

    out = io.StringIO()
    chats = [ConsoleChat(None, "local:u", out, tmp_path) for _ in range(2)]  # type: ignore[arg-type]
    png = Image(png=b"\x89PNG-one", caption="")
    table = Document(filename="placements-2025-03-10.csv", data=b"a;b", mime="text/csv")
    for chat in chats:  # two runs of the console, each starting its count anew
        chat.show([Outgoing(text="график", image=png), Outgoing(text="файл", document=table)])
    saved = sorted(tmp_path.iterdir())
    assert len(saved) == 4, saved
    assert sum(path.suffix == ".png" for path in saved) == 2
    assert all(
        path.name.startswith("placements-2025-03-10-") for path in saved if path.suffix == ".csv"
    )
    for path in saved:
        assert f": {path}]" in out.getvalue()


def test_choices_by_number_and_by_label(tmp_path: Path) -> None:
    first = run_chat(tmp_path, ["/start"], "chat")
    number = choice(first, "Проверить паблик")
    output = run_chat(tmp_path, [number, "Посчитать по цифрам"], "chat")
    assert "Сколько участников" in output


def test_prepare_scenario_to_todo_list(tmp_path: Path) -> None:
    answers = ["Да", "Нет", "Да", "Нет", "Не знаю", "Да", "Да", "Нет", "Да", "Да", "Да", "Да"]
    output = run_chat(
        tmp_path,
        [
            "/start",
            "Подготовить сообщество",
            "Коммерческое",
            "Продажи по любому ГЕО",
            "Пройти чек-лист",
            *answers,
        ],
    )
    assert "Что доделать" in output
    assert "Проверьте сами" in output


SCENARIOS = {
    "audience": (
        [
            "Найти целевую аудиторию",
            "Составить портрет",
            "рукоделие",
            "уникальные вещи",
            "женщины 25-45",
            "Москва, смартфоны",
            "паблики о шитье",
        ],
        ["Портрет вашей целевой аудитории", "рукоделие"],
    ),
    "check": (
        ["Проверить паблик", "Посчитать по цифрам", "800", "150", "120", "10"],
        ["Вовлеченность", "Вывод"],
    ),
    "placement": (
        ["Как разместить рекламу", "Помогите выбрать", "Нет, я новичок", "Маркировка рекламы"],
        ["менеджер", "ОРД"],
    ),
    "free": (
        ["Бесплатное продвижение", "Составить мой план", "40", "Взаимопиар"],
        ["план бесплатного продвижения", "ВЗАИМОПИАР"],
    ),
    "contest": (
        ["Проверить условия конкурса", "Добавьте админа в друзья и отметьте друга под постом"],
        ["друз"],
    ),
    "results": (
        ["Оценить результаты", "Посчитать размещение", "1000", "5000", "100", "20", "100", "300"],
        ["CPM", "Доля скрытий: 2%"],
    ),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_each_scenario_through_the_console(tmp_path: Path, scenario: str) -> None:
    lines, expected = SCENARIOS[scenario]
    profile = ["/start", "Тип сообщества и цель", "Творческое", "Небольшая активная аудитория"]
    output = run_chat(tmp_path, [*profile, "меню", *lines])
    for fragment in expected:
        assert fragment in output, (scenario, fragment, output[-3000:])


def test_killed_process_resumes_at_same_step(tmp_path: Path) -> None:
    run_chat(
        tmp_path,
        [
            "/start",
            "Подготовить сообщество",
            "Брендовое",
            "Небольшая активная аудитория",
            "Пройти чек-лист",
            "Да",
        ],
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=console_env(tmp_path),
        cwd=tmp_path,
    )
    assert process.stdin is not None
    process.stdin.write("Нет\n")
    process.stdin.flush()
    deadline = time.monotonic() + 60
    stored = 0
    while time.monotonic() < deadline and stored < 2:
        time.sleep(0.1)
        with sqlite3.connect(tmp_path / "chat.db") as db:
            stored = db.execute("select count(*) from checklist_answers").fetchone()[0]
    # Killed hard in the middle of the scenario: no clean shutdown, stdin still open.
    process.kill()
    process.wait()
    assert stored == 2

    resumed = run_chat(tmp_path, [], "chat")
    assert "Вопрос 3 из" in resumed
    resumed = run_chat(tmp_path, ["назад"], "chat")
    assert "Вопрос 2 из" in resumed


@pytest.mark.parametrize("junk", ["\x00\x07", "9" * 50, "<b>жирный</b>"])
def test_console_survives_junk(tmp_path: Path, junk: str) -> None:
    output = run_chat(tmp_path, ["/start", junk, "меню"])
    assert output.count("Выберите раздел") >= 1


def test_a_number_on_a_numeric_step_is_the_answer(tmp_path: Path) -> None:
    output = run_chat(
        tmp_path,
        ["/start", "Проверить паблик", "Коммерческое", "Подписчики из своего города"],
        "chat",
    )
    output = run_chat(tmp_path, ["Посчитать по цифрам", "2"], "chat")
    assert "Шаг 2 из" in output  # «2» is the members count, not the second button
    back = choice(output, "← Назад")
    output = run_chat(tmp_path, [f"#{back}"], "chat")  # a button there: «#N» or its label
    assert "Шаг 1 из" in output


def test_restart_says_where_we_stopped(tmp_path: Path) -> None:
    run_chat(tmp_path, ["/start", "Проверить паблик", "Коммерческое"], "chat")
    output = run_chat(tmp_path, [], "chat")
    assert "С возвращением! Мы остановились в разделе «Проверить паблик»." in output


def _read_until(fd: int, needle: str, seconds: float = 60) -> str:
    """What the console printed to its terminal until ``needle`` (bounded by ``seconds``)."""
    seen = b""
    deadline = time.monotonic() + seconds
    while needle.encode() not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen.decode(errors="replace")


def test_pasted_lines_are_one_message_in_a_terminal(tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat"],
        stdin=follower,
        stdout=follower,
        stderr=subprocess.DEVNULL,
        env=console_env(tmp_path),
        cwd=tmp_path,
    )
    os.close(follower)
    try:
        _read_until(leader, "> ")
        os.write(leader, b"/contest\n")
        _read_until(leader, "> ")
        rules = "Розыгрыш сертификата!\nОтметьте трёх друзей в комментариях.\nУдачи!\n"
        os.write(leader, rules.encode())  # pasted: three lines at once
        reply = _read_until(leader, "> ")
        os.write(leader, b"/quit\n")
        process.wait(timeout=60)
    finally:
        process.kill()
        os.close(leader)
    assert "друз" in reply.lower()  # the second line's condition was checked with the first
    assert reply.count("> ") == 1  # one reply: the three lines were one message


def test_log_lines_never_print_into_the_chat(tmp_path: Path) -> None:
    """A check that fails logs warnings (VK unreachable): they go to the log file beside the
    database, while the chat (stdout and stderr alike, one screen in a terminal) shows only the
    Russian answer."""
    env = console_env(tmp_path)
    env.update(
        VK_SERVICE_TOKEN="service-token-for-test",
        VK_API_URL="http://127.0.0.1:9/method",  # nothing listens there
        VK_MAX_RETRIES="0",
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        input="vk.com/club1\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "ВКонтакте сейчас не отвечает" in result.stdout
    for stream in (result.stdout, result.stderr):
        assert "WARNING" not in stream and "advisor.vk" not in stream, stream[-2000:]
    assert result.stderr == ""
    log = (tmp_path / "promo-advisor.log").read_text(encoding="utf-8")
    assert "WARNING advisor.vk.check: public check: VK unavailable" in log
    assert "service-token-for-test" not in log
    assert f"Журнал работы (для поддержки, в чат он не пишется): {tmp_path.resolve()}" in (
        result.stdout
    )
