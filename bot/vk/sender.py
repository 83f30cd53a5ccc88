"""Sends planned pieces to a person through the community token, with VK's error rules.

Method calls go through ``advisor.vk.api.VkClient`` (vkbottle's API pointed at ``VK_API_URL``,
paced at VK's 20 requests a second for a community token, with errors 6/9/10 and timeouts
retried with backoff), the hot ones joined into ``execute`` batches (``bot.vk.batch``).
Here: 900/901/902 (the person blocked or never allowed the community's messages) end the
reply with a log line and no retry; any other failure gives the operator a log line and the
person a short apology.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import aiohttp
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from advisor.dialog.types import Document, Image
from advisor.texts import t
from advisor.vk.api import VkApiError, VkUnavailable
from bot.vk.batch import MethodCaller
from bot.vk.events import EventAnswer
from bot.vk.outgoing import Piece, random_id

log = logging.getLogger(__name__)

# 900: the person blacklisted the community; 901: never allowed its messages; 902: privacy.
UNREACHABLE_CODES = frozenset({900, 901, 902})
UPLOAD_ATTEMPTS = 3
APOLOGY_PIECE = "apology"


class UploadError(Exception):
    """The photo or document did not reach VK; the message goes without it."""


class VkSender:
    def __init__(self, calls: MethodCaller, http: aiohttp.ClientSession, timeout: float) -> None:
        self.calls = calls
        self.http = http
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def answer_event(self, answer: EventAnswer) -> None:
        """Stops the pressed callback button's spinner; a failure costs only the spinner."""
        try:
            await self.calls.call(
                "messages.sendMessageEventAnswer",
                {"event_id": answer.event_id, "user_id": answer.user_id, "peer_id": answer.peer_id},
            )
        except (VkApiError, VkUnavailable) as exc:
            log.warning("VK: answering the button press of peer %d failed: %s", answer.peer_id, exc)

    async def send_pieces(
        self, peer_id: int, event_id: str, pieces: Sequence[Piece], *, first: int = 0
    ) -> bool:
        """Sends the pieces in order, in one batch when possible; False when the reply could
        not be delivered whole."""
        calls = []
        for offset, piece in enumerate(pieces):
            rid = random_id(event_id, first + offset)
            calls.append(("messages.send", await self._piece_params(peer_id, rid, piece)))
        if not calls:
            return True
        outcomes = await self.calls.call_group(calls)
        for index, outcome in enumerate(outcomes, start=first):
            if isinstance(outcome, BaseException):
                await self._failed(peer_id, event_id, index, outcome)
                return False
        return True

    async def send_or_raise(self, peer_id: int, key: str, pieces: Sequence[Piece]) -> None:
        """Sends the pieces in order with random_ids derived from ``key``, so sending them again
        shows nothing twice; the first failure is raised, with no apology (the caller retries)."""
        calls = [
            ("messages.send", await self._piece_params(peer_id, random_id(key, index), piece))
            for index, piece in enumerate(pieces)
        ]
        for outcome in await self.calls.call_group(calls) if calls else []:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _failed(self, peer_id: int, event_id: str, index: int, exc: BaseException) -> None:
        if isinstance(exc, VkApiError) and exc.vk_code in UNREACHABLE_CODES:
            log.info(
                "VK: peer %d does not accept the community's messages (error %d)",
                peer_id,
                exc.vk_code,
            )
            return
        if isinstance(exc, VkApiError):
            cause = str(exc)
        elif isinstance(exc, VkUnavailable):
            cause = f"gave up: {exc.cause}"
        else:
            raise exc
        log.error(
            "VK: messages.send to peer %d failed for event %s piece %d: %s",
            peer_id,
            event_id,
            index,
            cause,
        )
        await self.apologize(peer_id, event_id)

    async def send_text(self, peer_id: int, rid: int, text: str) -> None:
        """A plain message (a progress line); failures are logged, never raised."""
        try:
            await self._send(peer_id, rid, text)
        except (VkApiError, VkUnavailable) as exc:
            log.warning("VK: a status message to peer %d failed: %s", peer_id, exc)

    async def send_status(self, peer_id: int, rid: int, text: str) -> int | None:
        """A status message to be edited later: its message id, or None when it was not sent
        (logged, never raised)."""
        try:
            answer = await self.calls.call(
                "messages.send", {"peer_id": peer_id, "random_id": rid, "message": text}
            )
        except (VkApiError, VkUnavailable) as exc:
            log.warning("VK: a status message to peer %d failed: %s", peer_id, exc)
            return None
        return answer if isinstance(answer, int) and not isinstance(answer, bool) else None

    async def edit_text(self, peer_id: int, message_id: int, text: str) -> bool:
        """Replaces the text of the community's message (messages.edit); False when VK refused
        (logged, never raised)."""
        try:
            await self.calls.call(
                "messages.edit", {"peer_id": peer_id, "message_id": message_id, "message": text}
            )
        except (VkApiError, VkUnavailable) as exc:
            log.warning(
                "VK: editing status message %d of peer %d failed: %s", message_id, peer_id, exc
            )
            return False
        return True

    async def apologize(self, peer_id: int, event_id: str) -> None:
        try:
            await self._send(peer_id, random_id(event_id, APOLOGY_PIECE), t("vk.send_failed"))
        except (VkApiError, VkUnavailable) as exc:
            log.error("VK: the apology to peer %d failed too: %s", peer_id, exc)

    async def _piece_params(self, peer_id: int, rid: int, piece: Piece) -> dict[str, Any]:
        """messages.send parameters of a piece; its chart is uploaded first."""
        text = piece.text
        attachment = None
        if piece.image is not None:
            try:
                attachment = await self.upload_photo(peer_id, piece.image)
            except (UploadError, VkApiError, VkUnavailable) as exc:
                log.warning("VK: the chart for peer %d was not uploaded: %s", peer_id, exc)
                text = "\n\n".join(p for p in (text, t("vk.photo_unavailable")) if p)
        attachments = [attachment] if attachment is not None else []
        if piece.document is not None:
            try:
                attachments.append(await self.upload_document(peer_id, piece.document))
            except (UploadError, VkApiError, VkUnavailable) as exc:
                log.warning(
                    "VK: document %s for peer %d was not uploaded: %s",
                    piece.document.filename,
                    peer_id,
                    exc,
                )
                note = t("vk.document_unavailable", filename=piece.document.filename)
                text = "\n\n".join(p for p in (text, note) if p)
        params: dict[str, Any] = {"peer_id": peer_id, "random_id": rid, "message": text}
        if piece.keyboard is not None:
            params["keyboard"] = piece.keyboard
        if attachments:
            params["attachment"] = ",".join(attachments)
        return params

    async def set_typing(self, peer_id: int) -> None:
        """Shows "typing…" in the person's conversation (VK shows it for about 10 s); a failure
        costs only the indicator."""
        try:
            await self.calls.call("messages.setActivity", {"peer_id": peer_id, "type": "typing"})
        except (VkApiError, VkUnavailable) as exc:
            log.debug("VK: typing in the conversation of peer %d not shown: %s", peer_id, exc)

    async def upload_document(self, peer_id: int, document: Document) -> str:
        """docs.getMessagesUploadServer → upload → docs.save; the attachment (doc…)."""
        server = await self.calls.call(
            "docs.getMessagesUploadServer", {"peer_id": peer_id, "type": "doc"}
        )
        url = server.get("upload_url") if isinstance(server, dict) else None
        if not isinstance(url, str):
            raise UploadError("no upload_url")
        body = await self._post_file(url, "file", document.data, document.filename, document.mime)
        file = body.get("file")
        if not isinstance(file, str) or not file:
            raise UploadError(f"the upload server refused the file: {str(body)[:200]}")
        saved = await self.calls.call("docs.save", {"file": file, "title": document.filename})
        doc = saved.get("doc") if isinstance(saved, dict) else None
        if not isinstance(doc, dict) or "id" not in doc or "owner_id" not in doc:
            raise UploadError("docs.save returned no document")
        key = doc.get("access_key")
        return f"doc{doc['owner_id']}_{doc['id']}" + (f"_{key}" if key else "")

    async def _send(self, peer_id: int, rid: int, text: str) -> None:
        params = {"peer_id": peer_id, "random_id": rid, "message": text}
        await self.calls.call("messages.send", params)

    async def upload_photo(self, peer_id: int, image: Image) -> str:
        """photos.getMessagesUploadServer → upload → photos.saveMessagesPhoto; the attachment."""
        server = await self.calls.call("photos.getMessagesUploadServer", {"peer_id": peer_id})
        url = server.get("upload_url") if isinstance(server, dict) else None
        if not isinstance(url, str):
            raise UploadError("no upload_url")
        uploaded = await self._post_file(url, "photo", image.png, "chart.png", "image/png")
        if not uploaded.get("photo") or uploaded.get("photo") == "[]":
            raise UploadError(f"the upload server refused the photo: {str(uploaded)[:200]}")
        if not all(key in uploaded for key in ("server", "hash")):
            raise UploadError("the upload answer lacks server or hash")
        saved = await self.calls.call(
            "photos.saveMessagesPhoto",
            {key: uploaded[key] for key in ("photo", "server", "hash")},
        )
        photo = saved[0] if isinstance(saved, list) and saved else None
        if not isinstance(photo, dict) or "id" not in photo or "owner_id" not in photo:
            raise UploadError("photos.saveMessagesPhoto returned no photo")
        key = photo.get("access_key")
        return f"photo{photo['owner_id']}_{photo['id']}" + (f"_{key}" if key else "")

    async def _post_file(
        self, url: str, field: str, data: bytes, filename: str, mime: str
    ) -> dict[str, Any]:
        """A multipart upload to a VK upload server, retried on connection failures; its JSON."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(UPLOAD_ATTEMPTS),
            wait=wait_exponential(multiplier=0.3, max=3),
            retry=retry_if_exception_type((aiohttp.ClientError, TimeoutError)),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    form = aiohttp.FormData()
                    form.add_field(field, data, filename=filename, content_type=mime)
                    async with self.http.post(url, data=form, timeout=self.timeout) as response:
                        body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            # aiohttp's message may carry the upload URL: only the kind of failure is logged.
            raise UploadError(type(exc).__name__) from None
        if not isinstance(body, dict):
            raise UploadError(f"the upload server answered {str(body)[:200]}")
        return body
