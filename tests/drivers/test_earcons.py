"""Earcons: the notes are there at every rate, volume scales, no clicks, bad input named."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from drivers.earcons import Earcon, earcon_ms, melody, render_earcon
from speech_api.errors import AudioError


def note_frequencies(samples: npt.NDArray[np.int16], rate: int, kind: Earcon) -> list[float]:
    found, start = [], 0
    for freq, ms in melody(kind):
        n = int(rate * ms / 1000)
        piece = samples[start : start + n].astype(float)
        start += n
        if freq <= 0:
            assert np.max(np.abs(piece)) == 0  # rests are silent
            continue
        padded = np.zeros(rate)  # 1 Hz bins
        padded[: len(piece)] = piece * np.hanning(len(piece))
        found.append(float(np.argmax(np.abs(np.fft.rfft(padded)))))
    return found


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 24000, 44100, 48000])
@pytest.mark.parametrize("kind", list(Earcon))
def test_every_earcon_plays_its_notes_at_every_rate(kind: Earcon, rate: int) -> None:
    chunk = render_earcon(kind, rate)
    assert (chunk.sample_rate, chunk.channels, chunk.bit_depth, chunk.is_pcm) == (rate, 1, 16, True)
    total_ms = sum(ms for _f, ms in melody(kind))
    assert chunk.duration_ms == pytest.approx(total_ms, abs=1)
    assert 100 <= total_ms <= 600  # short enough not to get in the way
    samples = chunk.to_numpy()[:, 0]
    expected = [f for f, _ms in melody(kind) if f > 0]
    assert note_frequencies(samples, rate, kind) == pytest.approx(expected, abs=3)
    # Faded in and out: no click at the start or end.
    assert abs(int(samples[0])) < 200 and abs(int(samples[-1])) < 200


def test_volume_sets_the_peak_level() -> None:
    loud = render_earcon(Earcon.WAKE, 16000, volume=1.0).to_numpy()
    quiet = render_earcon(Earcon.WAKE, 16000, volume=0.25).to_numpy()
    assert np.max(np.abs(loud)) == pytest.approx(32767, rel=0.01)
    assert np.max(np.abs(quiet)) == pytest.approx(0.25 * 32767, rel=0.01)
    assert np.max(np.abs(render_earcon(Earcon.DONE, 16000, volume=0.0).to_numpy())) == 0


def test_earcons_are_distinct() -> None:
    rendered = {render_earcon(k, 16000).data for k in Earcon}
    assert len(rendered) == len(Earcon)


def test_each_render_is_stamped_now() -> None:
    a = render_earcon(Earcon.WAKE, 16000)
    b = render_earcon(Earcon.WAKE, 16000)
    assert b.captured_at_ns >= a.captured_at_ns and a.data == b.data


@pytest.mark.parametrize(
    ("args", "message"),
    [(("wake", 16000, 0.5), "unknown earcon"), ((Earcon.WAKE, 100, 0.5), "sample_rate"),
     ((Earcon.WAKE, 16000, 1.5), "volume")],
)
def test_bad_input_is_named(args: tuple[object, int, float], message: str) -> None:
    with pytest.raises(AudioError, match=message):
        render_earcon(*args)  # type: ignore[arg-type]


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000])
def test_an_earcons_length_is_known_without_rendering_it(rate: int) -> None:
    for kind in Earcon:  # the hub's start needs the wake earcon's length, not its samples
        assert earcon_ms(kind, rate) == pytest.approx(render_earcon(kind, rate).duration_ms)
