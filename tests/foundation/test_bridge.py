"""The sync->async bridge: results, errors and cancellation cross it correctly."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from speech_api import (
    AudioChunk,
    BlockingSpeechToTextClient,
    ChunkListSource,
    RealtimeSessionConfig,
    TranscriptionEvent,
    collect,
    iterate_in_thread,
    iterate_sync,
    run_blocking,
)


def test_run_blocking_returns_result_and_raises_errors() -> None:
    async def main() -> None:
        assert await run_blocking(lambda: threading.current_thread().name) != "MainThread"
        with pytest.raises(ValueError, match="boom"):
            await run_blocking(lambda: (_ for _ in ()).throw(ValueError("boom")))

    asyncio.run(main())


def test_items_arrive_in_order() -> None:
    async def main() -> list[int]:
        return await collect(iterate_in_thread(lambda: iter(range(500))))

    assert asyncio.run(main()) == list(range(500))


def test_error_after_items_reaches_consumer_after_those_items() -> None:
    def gen() -> Iterator[int]:
        yield 1
        yield 2
        raise RuntimeError("driver failed")

    async def main() -> list[int]:
        got: list[int] = []
        with pytest.raises(RuntimeError, match="driver failed"):
            async for item in iterate_in_thread(gen):
                got.append(item)
        return got

    assert asyncio.run(main()) == [1, 2]


def test_break_stops_and_closes_the_worker() -> None:
    closed = threading.Event()
    produced: list[int] = []

    def gen() -> Iterator[int]:
        try:
            for i in range(10_000):
                produced.append(i)
                yield i
        finally:
            closed.set()

    async def main() -> None:
        agen = iterate_in_thread(gen, max_pending=4)
        async for item in agen:
            if item == 3:
                break
        await agen.aclose()  # type: ignore[attr-defined]

    asyncio.run(main())
    assert closed.wait(2), "the sync iterator was not closed"
    assert len(produced) < 50, "the worker kept producing after the consumer left"


def test_cancelling_the_task_stops_a_blocked_producer() -> None:
    closed = threading.Event()
    producing = threading.Event()

    def slow() -> Iterator[int]:
        try:
            yield 0
            while True:
                producing.set()  # past the first item: from here on it blocks on back-pressure
                time.sleep(0.01)
                yield 1
        finally:
            closed.set()

    async def main() -> None:
        async def consume() -> None:
            async for _ in iterate_in_thread(slow, max_pending=1):
                await asyncio.sleep(10)  # a slow consumer; the producer blocks on back-pressure

        task = asyncio.create_task(consume())
        assert await asyncio.to_thread(producing.wait, 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert closed.wait(2)
    assert not [t for t in threading.enumerate() if t.name == "speech-api-bridge"]


def test_iterate_sync_drains_an_async_iterator_with_timeout() -> None:
    async def agen() -> object:
        yield 1
        yield 2

    assert list(iterate_sync(agen(), timeout=1)) == [1, 2]  # type: ignore[arg-type]

    async def stuck() -> object:
        await asyncio.sleep(5)
        yield 1

    with pytest.raises(TimeoutError):
        list(iterate_sync(stuck(), timeout=0.05))  # type: ignore[arg-type]


class EchoClient(BlockingSpeechToTextClient):
    """A blocking client whose 'transcript' is the byte count: exercises the async face."""

    def transcribe_blocking(self, audio: AudioChunk, language: str | None = None,
                            prompt: str | None = None) -> str:
        return f"{len(audio.data)} bytes {language}"

    def transcribe_stream_blocking(self, audio: AudioChunk, language: str | None = None,
                                   prompt: str | None = None) -> Iterator[str]:
        yield "partial"
        yield "partial final"

    def transcribe_realtime_blocking(
        self, chunks: Iterator[AudioChunk], config: RealtimeSessionConfig | None = None
    ) -> Iterator[TranscriptionEvent]:
        total = 0
        for chunk in chunks:
            total += len(chunk.data)
            yield TranscriptionEvent(text=str(total), is_final=False)
        yield TranscriptionEvent(text=f"total {total}", is_final=True)

    def supported_languages(self) -> list[str]:
        return ["en"]


def test_blocking_client_gets_the_seed_async_face() -> None:
    client = EchoClient()
    chunk = AudioChunk.pcm(b"\x00\x00" * 10, 16000)

    async def main() -> None:
        assert await client.transcribe(chunk, language="en") == "20 bytes en"
        assert await collect(client.transcribe_stream(chunk)) == ["partial", "partial final"]
        source = ChunkListSource([chunk, chunk, chunk])
        events = await collect(client.transcribe_realtime(source, RealtimeSessionConfig()))
        assert [e.text for e in events] == ["20", "40", "60", "total 60"]
        assert events[-1].is_final and not events[0].is_final
        assert await client.get_supported_languages() == ["en"]

    asyncio.run(main())


def test_a_worker_thread_iterates_an_async_iterator_and_closing_early_closes_it() -> None:
    from speech_api.bridge import iterate_from_thread

    closed = threading.Event()

    async def numbers() -> AsyncIterator[int]:
        try:
            for n in range(10):
                yield n
        finally:
            closed.set()

    async def main() -> tuple[list[int], list[int], bool]:
        loop = asyncio.get_running_loop()
        whole = await asyncio.to_thread(
            lambda: list(iterate_from_thread(numbers(), loop, timeout=10)))

        def first_three() -> list[int]:
            closed.clear()
            items = iterate_from_thread(numbers(), loop, timeout=10)
            taken = [next(items) for _ in range(3)]
            items.close()
            return taken

        return whole, await asyncio.to_thread(first_three), closed.is_set()

    whole, first, closed_early = asyncio.run(main())
    assert whole == list(range(10))
    assert first == [0, 1, 2] and closed_early


def test_a_stalled_async_iterator_times_the_worker_out() -> None:
    from speech_api.bridge import iterate_from_thread

    async def stalled() -> AsyncIterator[int]:
        await asyncio.Event().wait()
        yield 0

    async def main() -> None:
        loop = asyncio.get_running_loop()
        with pytest.raises(TimeoutError):
            await asyncio.to_thread(lambda: next(iterate_from_thread(stalled(), loop,
                                                                     timeout=0.2)))

    asyncio.run(main())
