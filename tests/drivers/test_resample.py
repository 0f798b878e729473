"""Resampler: frequency kept, SNR > 60 dB, streaming == one-shot, formats, errors."""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.resample import (
    StreamResampler,
    convert_channels,
    float_to_s16,
    resample_chunk,
    s16_to_float,
    to_mono,
)
from speech_api.audio import AudioChunk
from speech_api.errors import AudioError

RATES = [8000, 16000, 22050, 24000, 44100, 48000]


def sine_s16(freq: float, rate: int, seconds: float, amp: float = 0.5, channels: int = 1) -> bytes:
    n = np.arange(int(rate * seconds))
    mono = amp * np.sin(2 * np.pi * freq * n / rate)
    return float_to_s16(np.repeat(mono[:, None], channels, axis=1))


def fit_sine(y: npt.NDArray[np.float64], rate: int, freq: float) -> tuple[float, float]:
    """Least-squares fit of a sine at ``freq``: (amplitude, SNR in dB of the residual)."""
    n = np.arange(len(y))
    basis = np.stack(
        [np.sin(2 * np.pi * freq * n / rate), np.cos(2 * np.pi * freq * n / rate), np.ones(len(y))],
        axis=1,
    )
    coef, *_ = np.linalg.lstsq(basis, y, rcond=None)
    fitted = basis @ coef
    residual = y - fitted
    snr = 10 * np.log10(np.sum(fitted**2) / np.sum(residual**2))
    return float(np.hypot(coef[0], coef[1])), float(snr)


def dominant_frequency(y: npt.NDArray[np.float64], rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return float(np.argmax(spectrum) * rate / len(y))


@pytest.mark.parametrize(
    ("in_rate", "out_rate", "freq"),
    [(8000, 24000, 1000.0), (8000, 24000, 3000.0), (24000, 16000, 1000.0), (24000, 16000, 6000.0),
     (16000, 24000, 440.0), (44100, 48000, 5000.0), (48000, 8000, 700.0)],
)
def test_sine_keeps_frequency_and_snr(in_rate: int, out_rate: int, freq: float) -> None:
    rs = StreamResampler(in_rate, out_rate)
    out = rs.process(sine_s16(freq, in_rate, 1.0)) + rs.flush()
    y = np.frombuffer(out, dtype="<i2").astype(np.float64)
    assert len(y) == out_rate  # 1 s in, 1 s out
    trimmed = y[out_rate // 20 : -out_rate // 20]  # ignore the filter's ramp at both ends
    bin_hz = out_rate / len(trimmed)
    assert dominant_frequency(trimmed, out_rate) == pytest.approx(freq, abs=bin_hz + 1)
    amplitude, snr = fit_sine(trimmed, out_rate, freq)
    assert snr > 60, f"{in_rate}->{out_rate} at {freq} Hz: SNR {snr:.1f} dB"
    assert amplitude == pytest.approx(0.5 * 32768, rel=0.01)  # unity gain in the passband


def test_output_is_time_aligned_with_input() -> None:
    # Delay-compensated: a sine's phase at output sample j equals the input's at j/out_rate.
    rs = StreamResampler(8000, 24000)
    out = rs.process(sine_s16(500, 8000, 0.5)) + rs.flush()
    y = np.frombuffer(out, dtype="<i2").astype(np.float64)[1200:-1200]
    n = np.arange(1200, 1200 + len(y))
    expected = 0.5 * 32768 * np.sin(2 * np.pi * 500 * n / 24000)
    assert np.max(np.abs(y - expected)) < 0.002 * 32768


def test_frequency_above_target_nyquist_is_removed() -> None:
    rs = StreamResampler(48000, 16000)
    out = rs.process(sine_s16(12000, 48000, 0.5)) + rs.flush()
    y = np.frombuffer(out, dtype="<i2").astype(np.float64)[800:-800]
    assert np.sqrt(np.mean(y**2)) < 0.5 * 32768 * 10 ** (-60 / 20)  # aliased image under -60 dB


@settings(max_examples=40, deadline=None)
@given(
    rates=st.sampled_from([(a, b) for a in RATES for b in RATES if a != b]),
    cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=8),
    channels=st.sampled_from([1, 2]),
)
def test_streaming_in_any_chunks_equals_one_shot(
    rates: tuple[int, int], cuts: list[int], channels: int
) -> None:
    in_rate, out_rate = rates
    rng = np.random.default_rng(len(cuts))
    pcm = float_to_s16(rng.uniform(-0.5, 0.5, size=(4000, channels)))
    one = StreamResampler(in_rate, out_rate, channels)
    whole = one.process(pcm) + one.flush()
    stream = StreamResampler(in_rate, out_rate, channels)
    bounds = [0, *sorted(cuts), 4000]
    frame = 2 * channels
    parts = [stream.process(pcm[a * frame : b * frame]) for a, b in itertools.pairwise(bounds)]
    streamed = b"".join(parts) + stream.flush()
    assert streamed == whole
    assert len(whole) // frame == -(-4000 * out_rate // in_rate)


def test_every_20ms_chunk_gives_output_at_once() -> None:
    rs = StreamResampler(8000, 24000)
    sizes = [len(rs.process(c)) // 2 for c in [sine_s16(300, 8000, 0.02)] * 10]
    assert all(s > 0 for s in sizes)
    assert sizes[1:] == [480] * 9


def test_flush_resets_for_a_new_stream() -> None:
    rs = StreamResampler(16000, 24000)
    pcm = sine_s16(440, 16000, 0.3)
    first = rs.process(pcm) + rs.flush()
    second = rs.process(pcm) + rs.flush()
    assert first == second


def test_same_rate_passes_through() -> None:
    rs = StreamResampler(16000, 16000)
    pcm = sine_s16(440, 16000, 0.1)
    assert rs.process(pcm) == pcm
    assert rs.flush() == b""


def test_resample_chunk_keeps_capture_time_and_shape() -> None:
    pcm = sine_s16(440, 16000, 0.5, channels=2)
    chunk = AudioChunk.pcm(pcm, 16000, channels=2, captured_at_ns=42)
    out = resample_chunk(chunk, 24000)
    assert (out.sample_rate, out.channels, out.captured_at_ns) == (24000, 2, 42)
    assert out.duration_ms == pytest.approx(500)
    assert resample_chunk(chunk, 16000) is chunk


def test_s16_float_round_trip_and_clipping() -> None:
    pcm = np.array([-32768, -1, 0, 1, 32767], dtype="<i2").tobytes()
    floats = s16_to_float(pcm)
    assert floats.shape == (5, 1)
    assert float_to_s16(floats) == pcm
    assert float_to_s16(np.array([2.0, -2.0])) == np.array([32767, -32768], "<i2").tobytes()


def test_channel_conversion() -> None:
    stereo = np.array([100, 300, -50, -150], dtype="<i2").tobytes()
    assert np.frombuffer(to_mono(stereo, 2), "<i2").tolist() == [200, -100]
    mono = np.array([5, -7], dtype="<i2").tobytes()
    assert np.frombuffer(convert_channels(mono, 1, 2), "<i2").tolist() == [5, 5, -7, -7]
    assert convert_channels(mono, 1, 1) is mono


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: StreamResampler(0, 16000), "in_rate"),
        (lambda: StreamResampler(16000, 10**6), "out_rate"),
        (lambda: StreamResampler(16000, 24000, channels=0), "channels"),
        (lambda: StreamResampler(16000, 24000).process(b"\x00"), "whole number"),
        (lambda: StreamResampler(44100, 44099), "filter phases"),
        (lambda: resample_chunk(AudioChunk(b"RIFF"), 16000), "16-bit PCM"),
    ],
)
def test_bad_input_is_named(make: object, message: str) -> None:
    with pytest.raises(AudioError, match=message):
        make()  # type: ignore[operator]


@pytest.mark.parametrize(("in_rate", "out_rate"), [(8000, 24000), (24000, 16000), (48000, 16000)])
@pytest.mark.parametrize("channels", [1, 2])
def test_phase_and_gather_paths_agree(
    in_rate: int, out_rate: int, channels: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drivers import resample

    rng = np.random.default_rng(3)
    pcm = float_to_s16(rng.uniform(-0.5, 0.5, size=(3000, channels)))
    fast = StreamResampler(in_rate, out_rate, channels)
    by_phase = fast.process(pcm) + fast.flush()
    monkeypatch.setattr(resample, "FEW_PHASES", 0)
    slow = StreamResampler(in_rate, out_rate, channels)
    by_gather = slow.process(pcm) + slow.flush()
    a = np.frombuffer(by_phase, "<i2").astype(int)
    b = np.frombuffer(by_gather, "<i2").astype(int)
    assert len(a) == len(b) and np.max(np.abs(a - b)) <= 1  # float rounding only
