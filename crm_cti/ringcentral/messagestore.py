"""The message-store operations of ``RingCentralClient`` (SMS, pager, voicemail records;
their attachments; message-sync), kept apart so that client.py stays one screenful per
concern. Mixed into ``RingCentralClient``: ``self._json`` and ``self.request`` are its."""

from __future__ import annotations

from typing import Any

from crm_cti.ringcentral.recording import RecordingContent

MESSAGE_STORE = "/restapi/v1.0/account/~/extension/~/message-store"
MESSAGE_SYNC = "/restapi/v1.0/account/~/extension/~/message-sync"
READ_STATUSES = ("Read", "Unread")
CALL_QUEUES = "/restapi/v1.0/account/~/call-queues"


def _store(extension_id: str) -> str:
    """The message store of ``extension_id`` (``~``: the token's own; another extension's,
    such as a call queue's, needs an admin)."""
    return f"/restapi/v1.0/account/~/extension/{extension_id}/message-store"


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


class MessageStoreMethods:
    """listMessages, readMessage, updateMessage (readStatus), readMessageContent, syncMessages
    (throttling groups in budget.OPERATION_GROUPS), on the token's own extension or, for an
    admin, another one's (a call queue's voicemail); listCallQueues."""

    _json: Any
    request: Any

    def list_messages(
        self,
        *,
        message_type: str | list[str] | None = None,
        direction: str | None = None,
        read_status: str | None = None,
        date_from: Any = None,
        date_to: Any = None,
        conversation_id: str | None = None,
        phone_number: str | None = None,
        page: int = 1,
        per_page: int = 100,
        extension_id: str = "~",
    ) -> dict[str, Any]:
        """One page of the extension's message store (``GetMessageList``: records, paging,
        navigation). Light."""
        return self._json("GET", _store(extension_id), params={
            "messageType": message_type,
            "direction": direction,
            "readStatus": read_status,
            "dateFrom": _iso(date_from),
            "dateTo": _iso(date_to),
            "conversationId": conversation_id,
            "phoneNumber": phone_number,
            "page": page,
            "perPage": per_page,
        })

    def get_message(self, message_id: str) -> dict[str, Any]:
        """One ``GetMessageInfoResponse`` (NotFound once deleted). Light."""
        return self._json("GET", f"{MESSAGE_STORE}/{message_id}")

    def update_message_read_status(self, message_id: str, *, read: bool) -> dict[str, Any]:
        """Mark a message Read or Unread (``UpdateMessageRequest``); the updated record.
        Repeating it is harmless (a PUT). Medium."""
        return self._json("PUT", f"{MESSAGE_STORE}/{message_id}",
                          json={"readStatus": "Read" if read else "Unread"})

    def stream_message_content(
        self, message_id: str, attachment_id: str, *, byte_range: str | None = None,
        extension_id: str = "~",
    ) -> RecordingContent:
        """Open one attachment (voicemail audio, its transcription, an SMS text) for
        streaming, like a recording; ``byte_range`` a ``Range`` header value. Medium."""
        headers = {"Range": byte_range} if byte_range else None
        response = self.request(
            "GET", f"{_store(extension_id)}/{message_id}/content/{attachment_id}",
            stream=True, headers=headers,
        )
        return RecordingContent(response)

    def message_content_text(self, message_id: str, attachment_id: str, *,
                             extension_id: str = "~") -> str:
        """A small text attachment (a transcription) read whole."""
        response = self.request("GET",
                                f"{_store(extension_id)}/{message_id}/content/{attachment_id}",
                                headers={"Accept": "text/plain, */*"})
        try:
            return response.content.decode(response.encoding or "utf-8", errors="replace")
        finally:
            response.close()

    def sync_messages(
        self,
        *,
        sync_token: str | None = None,
        date_from: Any = None,
        message_type: str | list[str] | None = None,
        record_count: int | None = None,
        extension_id: str = "~",
    ) -> dict[str, Any]:
        """``GetMessageSyncResponse`` (records, syncInfo{syncType, syncToken, syncTime}):
        a full sync from ``date_from`` without ``sync_token``, else an incremental one.
        Light."""
        if sync_token:
            params: dict[str, Any] = {"syncType": "ISync", "syncToken": sync_token,
                                      "recordCount": record_count}
        else:
            params = {"syncType": "FSync", "dateFrom": _iso(date_from),
                      "messageType": message_type, "recordCount": record_count}
        path = MESSAGE_SYNC if extension_id == "~" else (
            f"/restapi/v1.0/account/~/extension/{extension_id}/message-sync")
        return self._json("GET", path, params=params)

    def list_call_queues(self) -> list[dict[str, Any]]:
        """The account's call queues (``CallQueueInfo``: id, extensionNumber, name), every
        page merged. Medium."""
        records: list[dict[str, Any]] = []
        for page in range(1, 51):
            data = self._json("GET", CALL_QUEUES, params={"page": page, "perPage": 100})
            records.extend(r for r in data.get("records") or [] if isinstance(r, dict))
            if not (data.get("navigation") or {}).get("nextPage"):
                break
        return records
