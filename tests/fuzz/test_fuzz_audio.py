"""Fuzz audio decoding: truncated files, wrong headers, zero length, absurd rates."""

from __future__ import annotations

import io
import struct

import numpy as np
import soundfile
from hypothesis import given, settings
from hypothesis import strategies as st

from speech_api import AudioChunk, AudioError, AudioFormat, decode_audio

TONE = (np.sin(np.arange(1600) / 5) * 8000).astype("<i2")


def encoded(fmt: str, subtype: str) -> bytes:
    buf = io.BytesIO()
    soundfile.write(buf, TONE, 16000, format=fmt, subtype=subtype)
    return buf.getvalue()


SAMPLES = {
    "wav": AudioChunk.pcm(TONE.tobytes(), 16000).to_wav(),
    "flac": encoded("FLAC", "PCM_16"),
    "ogg": encoded("OGG", "VORBIS"),
    "mp3": encoded("MP3", "MPEG_LAYER_III"),
}


def decode_cleanly(data: bytes) -> None:
    try:
        chunk = decode_audio(data)
    except AudioError as exc:
        assert str(exc)
        return
    assert chunk.format is AudioFormat.PCM
    assert chunk.sample_rate > 0 and chunk.channels > 0
    assert len(chunk.data) % chunk.frame_bytes == 0


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(SAMPLES)), st.data())
def test_truncated_files(name: str, data: st.DataObject) -> None:
    blob = SAMPLES[name]
    cut = data.draw(st.integers(0, len(blob)))
    decode_cleanly(blob[:cut])


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(SAMPLES)), st.data())
def test_corrupted_bytes(name: str, data: st.DataObject) -> None:
    blob = bytearray(SAMPLES[name])
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, min(len(blob) - 1, 200)))  # headers live up front
        blob[pos] = data.draw(st.integers(0, 255))
    decode_cleanly(bytes(blob))


@settings(max_examples=100, deadline=None)
@given(
    rate=st.integers(-(2**31), 2**32 - 1),
    channels=st.integers(0, 65535),
    bits=st.sampled_from([0, 1, 8, 12, 16, 24, 32, 64, 65535]),
)
def test_wav_headers_with_absurd_values(rate: int, channels: int, bits: int) -> None:
    block_align = max(1, channels * bits // 8) & 0xFFFF
    fmt = struct.pack("<HHIIHH", 1, channels, rate & 0xFFFFFFFF,
                      (rate * block_align) & 0xFFFFFFFF, block_align, bits)
    body = b"\x00\x01" * 64
    data_chunk = b"data" + struct.pack("<I", len(body)) + body
    riff = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + data_chunk
    decode_cleanly(b"RIFF" + struct.pack("<I", len(riff)) + riff)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=512))
def test_random_bytes(data: bytes) -> None:
    decode_cleanly(data)
