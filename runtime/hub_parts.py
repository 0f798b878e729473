"""What the hub is made of, built from the config: one factory per driver.

The hub's actors only see factories (so a restarted actor gets fresh drivers and
tests can swap a part). Heavy or hardware imports happen inside the factories.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from actors.capture import CaptureDevice
from actors.controller import ButtonCallback, ButtonFactory, Closeable
from actors.conversation import ConversationSettings
from actors.engine import ConversationEngine
from actors.listener import Segmenter, WakeWord
from actors.playback import EarconRenderer, OnIdle, OnWritten, PlaybackDevice, PlaybackFactory
from actors.wiring import CAPTURE, PLAYBACK
from drivers.alsa_pcm import OnPresence
from drivers.local.skills import HubStatus, SkillContext
from drivers.volume import VolumeControl
from runtime.config import HubConfig
from runtime.earpiece_state import AudioPresence
from runtime.engine_factory import EngineContext
from runtime.engine_factory import engine_maker as make_engines
from speech_api import AudioChunk

if TYPE_CHECKING:
    from drivers.earpiece import EarpieceButton

log = logging.getLogger(__name__)


class HubControls:
    """What spoken commands change in the running hub: the speaker volume, the mic mute.

    Built with the parts (the skills need it before any actor exists); the hub binds
    ``request_mute`` to its Controller when it starts.
    """

    def __init__(self, volume: VolumeControl) -> None:
        self.volume = volume
        self.request_mute: Callable[[bool], None] = lambda _muted: None
        self.muted = False  # the microphone is muted (kept by the hub from its state)
        # (connected, battery percent), None = unknown; bound to the hub when it starts
        self.earpiece_status: Callable[[], tuple[bool | None, int | None]] = \
            lambda: (None, None)

    def skill_context(self) -> SkillContext:
        from drivers.local.skills import SkillContext

        def set_volume(level: int) -> None:
            self.volume.level = level

        return SkillContext(get_volume=lambda: self.volume.level, set_volume=set_volume,
                            set_muted=self._set_muted)

    def earpiece_now(self) -> tuple[bool | None, int | None]:
        return self.earpiece_status()  # looked up at call time: bound once the hub starts

    def _set_muted(self, muted: bool) -> None:
        self.request_mute(muted)  # looked up at call time: bound once the hub starts


@dataclass(frozen=True, slots=True)
class HubParts:
    capture: Callable[[], CaptureDevice]
    playback: PlaybackFactory
    engine: Callable[[], ConversationEngine]
    segmenter: Callable[[], Segmenter]
    wake: Callable[[], WakeWord | None]
    earcon: EarconRenderer
    button: ButtonFactory | None
    led: Callable[[], StatusLight | None]  # opened by the hub at start, closed at stop
    settings: ConversationSettings
    controls: HubControls
    # the audio drivers' "device came / went" reports; the hub listens (its device state)
    audio_presence: AudioPresence = field(default_factory=AudioPresence)
    # the earpiece's own button (and battery, codec): opened by the hub at start
    earpiece: Callable[[ButtonCallback], EarpieceButton | None] = lambda _on_press: None


class StatusLight:
    """The status LED by pattern name; closed by the hub when it stops."""

    def __init__(self, led: Any, patterns: Any) -> None:
        self._led, self._patterns = led, patterns

    def set(self, name: str) -> None:
        self._led.set_pattern(self._patterns[name])

    def close(self) -> None:
        self._led.close()


class UnsupportedModeError(ValueError):
    pass


def build_parts(config: HubConfig, *, open_led: bool = True) -> HubParts:
    earcon = earcon_renderer(config)
    controls = HubControls(VolumeControl(round(config.audio.playback.volume * 100)))
    presence = AudioPresence()
    return HubParts(
        capture=lambda: alsa_capture(config, presence.reporter(CAPTURE)),
        playback=lambda on_written, on_idle: alsa_playback(
            config, on_written, on_idle, controls.volume, presence.reporter(PLAYBACK)),
        engine=engine_maker(config, earcon, controls.skill_context(),
                            earpiece_status=controls.earpiece_now,
                            muted=lambda: controls.muted),
        segmenter=lambda: lazy_segmenter(config),
        wake=lambda: wake_word(config),
        earcon=earcon,
        button=button_factory(config),
        led=(lambda: status_led(config)) if open_led else (lambda: None),
        # the mic opens once the earcon has been heard: its length plus the playback lead
        settings=conversation_settings(config, earcon_ms=wake_earcon_ms(config)),
        controls=controls,
        audio_presence=presence,
        earpiece=lambda on_press: earpiece_button(config, on_press),
    )


def conversation_settings(config: HubConfig, *, earcon_ms: int) -> ConversationSettings:
    c = config.conversation
    always = config.triggers.always_listening
    server = always and config.mode == "realtime" and \
        config.openai.realtime.turn_detection != "none"
    return ConversationSettings(
        listen_timeout_s=c.listen_timeout_s,
        max_utterance_s=c.max_utterance_s,
        thinking_timeout_s=c.think_timeout_s,
        follow_up_s=c.follow_up_s,
        barge_in=c.barge_in,
        server_turns=server,
        vad_turns=always and not server,
        earcon_ms=earcon_ms,
        barge_in_min_speech_ms=c.barge_in_min_speech_ms,
        near_field_snr_db=c.near_field_snr_db,
    )


# --- audio --------------------------------------------------------------------------


class _AlsaCaptureSource:
    def __init__(self, config: HubConfig, on_presence: OnPresence | None = None) -> None:
        from drivers.alsa import AlsaCapture

        cap = config.audio.capture
        self.capture = AlsaCapture(cap.device, cap.sample_rate, cap.channels, cap.period_ms,
                                   on_presence=on_presence)

    def stream(self, stop: threading.Event) -> Iterator[AudioChunk]:
        return self.capture.stream(stop)

    def close(self) -> None:
        self.capture.close()


def alsa_capture(config: HubConfig, on_presence: OnPresence | None = None) -> CaptureDevice:
    return _AlsaCaptureSource(config, on_presence)


def alsa_playback(config: HubConfig, on_written: OnWritten, on_idle: OnIdle,
                  volume: VolumeControl | None = None,
                  on_presence: OnPresence | None = None) -> PlaybackDevice:
    from drivers.alsa import AlsaPlayback

    out = config.audio.playback
    return AlsaPlayback(out.device, out.sample_rate, out.channels, out.period_ms,
                        max_buffer_ms=out.buffer_ms, on_written=on_written, on_idle=on_idle,
                        volume=volume, on_presence=on_presence)


def wake_earcon_ms(config: HubConfig) -> int:
    """The wake earcon's length plus the playback lead (0 without earcons)."""
    if not config.feedback.earcons:
        return 0
    from drivers.earcons import Earcon, earcon_ms

    rate = config.audio.playback.sample_rate
    return int(earcon_ms(Earcon.WAKE, rate) + 2 * config.audio.playback.period_ms)


def earcon_renderer(config: HubConfig) -> EarconRenderer:
    if not config.feedback.earcons:
        return lambda _kind: None
    from drivers.earcons import Earcon, render_earcon

    rate, volume = config.audio.playback.sample_rate, config.feedback.earcon_volume
    cache: dict[str, AudioChunk] = {}

    def render(kind: str) -> AudioChunk | None:
        if kind not in cache:
            cache[kind] = render_earcon(Earcon[kind], rate, volume)
        return cache[kind]

    return render


# --- listening ----------------------------------------------------------------------


def segmenter(config: HubConfig) -> Segmenter:
    from drivers.local.segmenter import Endpointer, SpeechSegmenter
    from drivers.local.vad import create_vad

    v, c = config.vad, config.conversation
    vad = create_vad(v.engine, sample_rate=config.audio.capture.sample_rate,
                     aggressiveness=v.aggressiveness, threshold=v.threshold)
    # vad.* shapes the speech segments; the turn ends after endpoint_silence_ms without
    # one (the barge-in minimum is the Conversation's, applied to speech while it answers).
    segments = SpeechSegmenter(vad, start_ms=v.start_ms, hangover_ms=v.hangover_ms,
                               min_speech_ms=v.min_speech_ms)
    return Endpointer(segments, c.endpoint_silence_ms)


def lazy_segmenter(config: HubConfig) -> Segmenter:
    """The Listener's segmenter, built by the first chunk (after READY, see the module)."""
    from drivers.local.lazy_segmenter import LazySegmenter

    return LazySegmenter(lambda: segmenter(config))


def wake_word(config: HubConfig) -> WakeWord | None:
    w = config.triggers.wake_word
    if not w.enabled or config.triggers.always_listening:
        return None
    if w.engine == "wyoming":  # a wake word server on the network (the config check has the uri)
        from drivers.wyoming import WyomingWakeWord

        return WyomingWakeWord(w.uri or "", refractory_ms=w.refractory_ms)
    from drivers.local.lazy_wakeword import LazyWakeWord
    from drivers.local.wakeword import create_wake_word

    model = str(w.model_path) if w.engine == "openwakeword" and w.model_path else w.model

    def make() -> WakeWord:
        detector = create_wake_word(w.engine, model=model, phrase=w.phrase,
                                    sensitivity=w.sensitivity, refractory_ms=w.refractory_ms,
                                    window=w.window)
        if not w.vad_gate:
            return detector
        from drivers.local.vad import create_vad
        from drivers.local.wake_gate import VadGatedWakeWord

        # the most permissive mode: a gate opened by noise costs CPU, one shut on speech a wake
        gate = create_vad("webrtc", sample_rate=config.audio.capture.sample_rate,
                          aggressiveness=0)
        return VadGatedWakeWord(detector, gate)

    # loaded on its own thread, after READY; the audio heard meanwhile waits for it
    return LazyWakeWord(make, name=f"{w.engine} {w.phrase or model}")


# --- provider -----------------------------------------------------------------------


def engine_maker(
    config: HubConfig, earcon: EarconRenderer | None = None,
    skill_context: SkillContext | None = None, *,
    earpiece_status: Callable[[], tuple[bool | None, int | None]] | None = None,
    muted: Callable[[], bool] = lambda: False,
) -> Callable[[], ConversationEngine]:
    """Every mode's engine (with offline fallback and tools): runtime/engine_factory.py."""
    context = EngineContext(skill_context=skill_context or SkillContext(),
                            render_earcon=earcon or (lambda _kind: None),
                            make_segmenter=lambda: segmenter(config))
    if earpiece_status is not None:
        def status() -> HubStatus:  # what the status skill (and its tool) reports
            connected, battery = earpiece_status()
            return HubStatus(mode=config.mode,
                             provider_reachable=config.mode != "local" and context.link.online,
                             earpiece_connected=connected, battery_percent=battery,
                             muted=muted())

        context.skill_context.status = status
    try:
        return make_engines(config, context)
    except ValueError as exc:  # an unusable local engine setting: say which
        raise UnsupportedModeError(str(exc)) from None


# --- button and LED -----------------------------------------------------------------


def button_factory(config: HubConfig) -> ButtonFactory | None:
    b = config.triggers.button
    if config.triggers.keyboard:
        def keyboard(callback: ButtonCallback) -> Closeable:
            from drivers.gpio import KeyboardButton

            return KeyboardButton(on_event=lambda e: callback(e.kind.name, e.at_ns))

        return keyboard
    if not b.enabled:
        return None
    from drivers.gpio import gpio_available

    if not gpio_available():  # says why, once
        return None

    def gpio_button(callback: ButtonCallback) -> Closeable:
        from drivers.gpio import ButtonDriver

        return ButtonDriver(
            b.pin, on_event=lambda e: callback(e.kind.name, e.at_ns), active_low=b.active_low,
            debounce_ms=b.debounce_ms, hold_ms=b.hold_ms, double_tap_ms=b.double_tap_ms)

    return gpio_button


def uses_bluealsa(config: HubConfig) -> bool:
    return any(d.startswith("bluealsa") for d in (config.audio.capture.device,
                                                   config.audio.playback.device))


def earpiece_button(config: HubConfig, on_press: ButtonCallback) -> EarpieceButton | None:
    """The earpiece's button sources ``triggers.earpiece_button`` asks for, started."""
    e = config.triggers.earpiece_button
    bluealsa = uses_bluealsa(config)
    hfp = e.hfp == "always" or (e.hfp == "auto" and bluealsa)
    avrcp = e.enabled and (e.avrcp == "always" or (e.avrcp == "auto" and bluealsa))
    if not (hfp or avrcp):
        return None
    from drivers.earpiece import EarpieceButton, EarpieceButtonSettings

    return EarpieceButton(on_press, EarpieceButtonSettings(
        hfp=hfp, hfp_button=e.enabled, avrcp=avrcp, input_device=e.input_device,
        hold_ms=e.hold_ms, double_tap_ms=e.double_tap_ms))


def status_led(config: HubConfig) -> StatusLight | None:
    if not config.feedback.led:
        return None
    try:
        from drivers.gpio import LedPattern, StatusLed, gpio_available

        if not gpio_available():
            log.info("no GPIO here: the status LED is off")
            return None
        led = StatusLed(config.feedback.led_pin)
    except Exception as exc:  # noqa: BLE001 - the hub runs on without its LED
        log.warning("the status LED is not available: %s", exc)
        return None
    return StatusLight(led, LedPattern)
