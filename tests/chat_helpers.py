"""Drives the advisor in-process like a person would: typing texts and pressing buttons by label."""

from __future__ import annotations

from dataclasses import dataclass, field

from advisor.app import Advisor
from advisor.dialog.types import MAX_PAYLOAD_BYTES, Button, Incoming, Outgoing
from advisor.texts import t


@dataclass
class ChatUser:
    advisor: Advisor
    user_id: str = "u1"
    channel: str = "console"
    last: list[Outgoing] = field(default_factory=list)
    progress: list[str] = field(default_factory=list)

    async def _record(self, status: str) -> None:
        self.progress.append(status)

    async def _send(self, incoming: Incoming) -> list[Outgoing]:
        self.last = await self.advisor.handle(incoming, self._record)
        for message in self.last:
            for row in message.buttons:
                for button in row:
                    assert len(button.payload.encode()) <= MAX_PAYLOAD_BYTES, button.payload
        return self.last

    async def say(self, text: str) -> list[Outgoing]:
        return await self._send(Incoming(channel=self.channel, user_id=self.user_id, text=text))

    async def payload(self, payload: str) -> list[Outgoing]:
        return await self._send(
            Incoming(channel=self.channel, user_id=self.user_id, payload=payload)
        )

    def buttons(self) -> list[Button]:
        return [b for m in self.last for row in m.buttons for b in row]

    def labels(self) -> list[str]:
        return [b.label for b in self.buttons()]

    def button(self, label: str) -> Button:
        matches = [b for b in self.buttons() if b.label == label]
        assert matches, f"no button {label!r} among {self.labels()}"
        return matches[-1]

    async def press(self, label: str) -> list[Outgoing]:
        return await self.payload(self.button(label).payload)

    @property
    def text(self) -> str:
        return "\n".join(m.text for m in self.last)


def verdict_key(line: str) -> str:
    """The verdict (buy, caution, avoid) a public's early verdict line shows."""
    words = {key: t(f"check.compare.verdict.{key}") for key in ("buy", "caution", "avoid")}
    if words["avoid"] in line:  # «не брать» holds «брать»
        return "avoid"
    (key,) = [key for key in ("buy", "caution") if words[key] in line]
    return key
