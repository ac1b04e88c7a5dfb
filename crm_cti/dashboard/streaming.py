"""Response bodies the server in use (WSGI or ASGI) really streams, always closed: the
history's CSV export and the recording proxy."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest


class Body:
    """A response body that is streamed for real and always closed.

    Django calls ``close()`` when the response ends (finished, or the WSGI server gave up),
    so resources are released even when iteration never started.
    """

    def __init__(
        self, chunks: Iterator[Any], *, on_close: Callable[[], None] | None = None
    ) -> None:
        self._chunks = chunks
        self._on_close = on_close

    def __iter__(self) -> Iterator[Any]:
        return self._chunks

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            # ValueError "generator already executing": the client left while a worker
            # thread was reading; the generator closes once that read returns.
            with contextlib.suppress(ValueError):
                close()
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()


class AsyncBody(Body):
    """Under ASGI Django reads a *synchronous* body to the end (into memory) before sending a
    byte: this one is asynchronous, each chunk fetched by ``sync_to_async``.
    ``thread_sensitive`` keeps database reads on the request's own thread (its connection
    and server-side cursor); network reads need not hold that thread."""

    __iter__ = None  # type: ignore[assignment]  # not iterable synchronously

    def __init__(
        self,
        chunks: Iterator[Any],
        *,
        thread_sensitive: bool,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(chunks, on_close=on_close)
        self._thread_sensitive = thread_sensitive

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._chunks_async()

    async def _chunks_async(self) -> AsyncIterator[Any]:
        done = object()
        next_chunk = sync_to_async(next, thread_sensitive=self._thread_sensitive)
        try:
            while (chunk := await next_chunk(self._chunks, done)) is not done:
                yield chunk
        finally:
            # Also when the client went away and the server cancelled the response.
            await sync_to_async(self.close, thread_sensitive=self._thread_sensitive)()


def streamed_body(
    request: HttpRequest,
    chunks: Iterator[Any],
    *,
    thread_sensitive: bool,
    on_close: Callable[[], None] | None = None,
) -> Body:
    """``chunks`` as a body the server in use (WSGI or ASGI) really streams."""
    if isinstance(request, ASGIRequest):
        return AsyncBody(chunks, thread_sensitive=thread_sensitive, on_close=on_close)
    return Body(chunks, on_close=on_close)
