"""Shared fixtures for the offline-engine tests: real speech, decoded once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drivers.local.skills import SkillRegistry
from drivers.local.stt import LocalSpeechToTextClient
from tests.local.speech import SegmentedStream, cards, librivox, segmented_stream


@pytest.fixture(scope="session")
def vad_stream() -> SegmentedStream:
    return segmented_stream()


@pytest.fixture(scope="session")
def free_stt() -> LocalSpeechToTextClient:
    return LocalSpeechToTextClient(mode="free")


@pytest.fixture(scope="session")
def skills_jsgf() -> str:
    with SkillRegistry() as registry:
        return registry.jsgf()


@pytest.fixture(scope="session")
def command_stt(skills_jsgf: str) -> LocalSpeechToTextClient:
    """The hub's local-mode recogniser: the skills' grammar with free-form fallback."""
    return LocalSpeechToTextClient(mode="grammar+free", grammar=skills_jsgf)


@pytest.fixture(scope="session")
def human_transcripts(free_stt: LocalSpeechToTextClient) -> dict[str, tuple[str, list[str]]]:
    """name -> (reference, partial hypotheses ending with the final) for LibriVox and cards."""
    return {
        name: (reference, list(free_stt.transcribe_stream_blocking(audio)))
        for name, audio, reference in librivox() + cards()
    }


@pytest.fixture
def registry() -> Iterator[SkillRegistry]:
    with SkillRegistry() as reg:
        yield reg
