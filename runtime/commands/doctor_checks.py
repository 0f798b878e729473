"""The checks behind ``maigic doctor``: one function per link of the chain.

Each check returns a :class:`Check`: a verdict, what was found, and (unless it passed) the fix.
Checks never raise and never hang: every device open, subprocess and request has a deadline.
"""

from __future__ import annotations

import enum
import os
import pwd
import stat
import time
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

from runtime.commands import system_tools as tools
from runtime.config import API_KEY_ENV, ConfigError, HubConfig, load_config
from runtime.status import query_status

SERVICE = "maigic.service"
SERVICE_USER = "maigic"
INSTALLED_KEY_FILE = Path("/etc/maigic/openai.key")  # where deploy/install.sh stores the key


class Verdict(enum.Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    verdict: Verdict
    detail: str
    fix: str = ""


def check_config(path: Path) -> tuple[Check, HubConfig | None]:
    try:
        loaded = load_config(path)
    except ConfigError as exc:
        count = len(exc.problems)
        first = str(exc.problems[0]) if exc.problems else str(exc)
        more = f" (and {count - 1} more)" if count > 1 else ""
        fix = f"edit {path}, then run 'maigic config check {path}'"
        return Check("config", Verdict.FAIL, f"{first}{more}", fix), None
    mode = loaded.config.mode
    if loaded.warnings:
        return Check("config", Verdict.WARN, f"{path} valid (mode {mode}); {loaded.warnings[0]}",
                     "see 'maigic config check'"), loaded.config
    return Check("config", Verdict.OK, f"{path} valid (mode {mode})"), loaded.config


def _key_owner_problem(path: Path, st: os.stat_result) -> str:
    try:
        service_uid = pwd.getpwnam(SERVICE_USER).pw_uid
    except KeyError:
        return ""  # not an installed system (a developer machine): any owner will do
    if st.st_uid != service_uid:
        return f"; owned by uid {st.st_uid}, not {SERVICE_USER}: sudo chown {SERVICE_USER} {path}"
    return ""


def read_api_key(config: HubConfig) -> tuple[str | None, Check]:
    """The key the hub would use, and the verdict on how it is stored. Never shows the key."""
    path = config.openai.api_key_file
    if path is None:
        if os.environ.get(API_KEY_ENV, "").strip():
            return os.environ[API_KEY_ENV].strip(), Check(
                "api key", Verdict.OK, f"from ${API_KEY_ENV}")
        fix = ("sudo deploy/install.sh --api-key-file FILE (stores it 0600 in "
               f"{INSTALLED_KEY_FILE} and points the config at it)")
        if INSTALLED_KEY_FILE.exists():
            fix = f"set openai.api_key_file: {INSTALLED_KEY_FILE} in the config"
        return None, Check(
            "api key", Verdict.FAIL, f"mode '{config.mode}' needs an OpenAI API key; none is set",
            fix,
        )
    try:
        st = path.stat()
        key = path.read_text(encoding="utf-8").strip()
    except PermissionError:
        return None, Check("api key", Verdict.FAIL, f"{path} is not readable by this user",
                           "run 'sudo maigic doctor'")
    except (OSError, UnicodeDecodeError) as exc:
        return None, Check("api key", Verdict.FAIL, f"{path}: {exc}",
                           "write the key into that file, or fix openai.api_key_file")
    if not key or any(c.isspace() for c in key):
        what = "is empty" if not key else "holds more than one word"
        return None, Check("api key", Verdict.FAIL, f"{path} {what}; expected just the key",
                           f"put only the key in {path}")
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        return key, Check("api key", Verdict.FAIL,
                          f"{path} is readable by others (mode {mode:o})", f"sudo chmod 600 {path}")
    owner = _key_owner_problem(path, st)
    verdict = Verdict.WARN if owner else Verdict.OK
    return key, Check("api key", verdict, f"{path} (mode 600){owner}")


def check_capture(config: HubConfig) -> Check:
    from drivers.alsa import AlsaCapture, DeviceLostError

    cfg = config.audio.capture
    capture = AlsaCapture(cfg.device, cfg.sample_rate, cfg.channels, cfg.period_ms)
    try:
        capture.open()
        chunk = capture.read()
    except DeviceLostError as exc:
        return _device_problem("capture", cfg.device, exc)
    finally:
        capture.close()
    return Check("capture", Verdict.OK,
                 f"{cfg.device} opened, read {chunk.duration_ms:.0f} ms at {cfg.sample_rate} Hz")


def check_playback(config: HubConfig, timeout_s: float = 3.0) -> Check:
    from drivers.alsa import AlsaPlayback, DeviceLostError
    from speech_api import AudioChunk

    cfg = config.audio.playback
    playback = AlsaPlayback(cfg.device, cfg.sample_rate, cfg.channels, cfg.period_ms)
    silence = AudioChunk.pcm(bytes(cfg.sample_rate // 10 * 2), cfg.sample_rate)  # 100 ms
    try:
        playback.open()
        playback.enqueue(silence, "doctor")
        drained = playback.drain(timeout_s)
    except DeviceLostError as exc:
        return _device_problem("playback", cfg.device, exc)
    finally:
        playback.close()
    if not drained:
        detail = f"{cfg.device} opened but did not play 100 ms of silence within {timeout_s:g} s"
        return Check("playback", Verdict.FAIL, detail, _device_fix(cfg.device, "playback"))
    return Check("playback", Verdict.OK, f"{cfg.device} opened and played 100 ms of silence")


def _device_problem(direction: str, device: str, exc: Exception) -> Check:
    if "busy" in str(exc).lower():
        # bluealsa and hw: devices take one client: the running hub holds them
        return Check(direction, Verdict.OK, f"{device} is in use (by the running hub?)")
    return Check(direction, Verdict.FAIL, str(exc), _device_fix(device, direction))


def _device_fix(device: str, direction: str) -> str:
    key = f"audio.{direction}.device"
    if device.startswith("bluealsa"):
        return ("turn the earpiece on and check the 'earpiece' line below; "
                "'sudo systemctl status bluealsa'")
    return f"list devices with 'maigic devices' (or 'arecord -L'/'aplay -L') and set {key}"


def check_earpiece(config: HubConfig) -> Check:
    devices = (config.audio.capture.device, config.audio.playback.device)
    macs = {m for m in (tools.bluealsa_mac(d) for d in devices) if m}
    if not any(d.startswith("bluealsa") for d in devices):
        return Check("earpiece", Verdict.SKIP, "audio devices are not Bluetooth (bluealsa)",
                     "to use an earpiece run 'sudo maigic pair'")
    try:
        pcms = tools.bluealsa_pcms()
        named = sorted(m for m in macs if m != "00:00:00:00:00:00")
        for mac in named:
            info = tools.device_info(mac)
            if info is None or not info.paired:
                return Check("earpiece", Verdict.FAIL, f"{mac} is not paired",
                             "sudo maigic pair " + mac)
            if not info.connected:
                return Check("earpiece", Verdict.FAIL, f"{info.name} ({mac}) is not connected",
                             f"turn it on and bring it close; 'bluetoothctl connect {mac}'")
            if not tools.sco_pcm_present(mac, pcms):
                return Check("earpiece", Verdict.FAIL,
                             f"{info.name} ({mac}) connected, but without hands-free (HFP) audio",
                             "bluealsa needs -p hfp-ag (re-run deploy/install.sh), then "
                             "'sudo systemctl restart bluealsa' and reconnect the earpiece")
            return Check("earpiece", Verdict.OK, f"{info.name} ({mac}) connected, HFP available")
    except tools.ToolMissingError as exc:
        return Check("earpiece", Verdict.FAIL, str(exc), "re-run deploy/install.sh")
    if any("PROFILE=SCO" in p.upper() for p in pcms):
        return Check("earpiece", Verdict.OK, "an earpiece is connected with HFP audio")
    return Check("earpiece", Verdict.FAIL, "no earpiece connected with hands-free audio",
                 "turn the earpiece on, or pair one with 'sudo maigic pair'")


def check_gpio(config: HubConfig) -> Check:
    pins = []
    if config.triggers.button.enabled:
        pins.append(("button", config.triggers.button.pin))
    if config.feedback.led:
        pins.append(("led", config.feedback.led_pin))
    if not pins:
        return Check("gpio", Verdict.SKIP, "button and LED are disabled")
    from gpiozero import Device, InputDevice
    from gpiozero.exc import BadPinFactory, GPIOPinInUse, PinError

    found = []
    with warnings.catch_warnings():
        # gpiozero warns about every pin library it tries before the one that works
        warnings.simplefilter("ignore")
        try:
            for role, pin in pins:
                try:
                    InputDevice(pin).close()  # claiming the pin (read-only) proves GPIO works
                    found.append(f"{role} GPIO{pin}")
                except GPIOPinInUse:
                    found.append(f"{role} GPIO{pin} (in use, e.g. by the running hub)")
        except BadPinFactory:
            return Check("gpio", Verdict.FAIL, "no GPIO on this machine (no pin factory works)",
                         "set triggers.button.enabled: false and feedback.led: false, or "
                         "install python3-lgpio (the venv needs --system-site-packages)")
        except (PinError, OSError) as exc:
            return Check("gpio", Verdict.FAIL, f"GPIO error: {exc}",
                         f"check the pin numbers (BCM) and that {SERVICE_USER} is in group gpio")
        finally:
            if Device.pin_factory is not None:
                Device.pin_factory.close()
                Device.pin_factory = None
    return Check("gpio", Verdict.OK, ", ".join(found))


def check_provider(config: HubConfig, key: str | None, timeout_s: float = 5.0) -> Check:
    """One cheap authenticated request: GET {base_url}/models."""
    base = config.openai.base_url.rstrip("/")
    request = urllib.request.Request(f"{base}/models", method="GET")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            response.read(1 << 16)
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            return Check("provider", Verdict.FAIL,
                         f"{base} rejected the API key (HTTP {exc.code})",
                         "put a valid key in the key file (platform.openai.com/api-keys)")
        if exc.code == 404:
            return Check("provider", Verdict.WARN, f"{base} answered, but has no /models (404)",
                         "check openai.base_url ends with /v1")
        return Check("provider", Verdict.FAIL, f"{base} answered HTTP {exc.code}",
                     "the provider has a problem; retry later or check status.openai.com")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return Check("provider", Verdict.FAIL, f"cannot reach {base}: {reason}",
                     "check the network ('ping 1.1.1.1') and openai.base_url")
    ms = (time.monotonic() - started) * 1000
    note = "" if key else " (no key sent)"
    return Check("provider", Verdict.OK, f"{base} reachable, key accepted{note} ({ms:.0f} ms)")


_UNIT_STATES = {"active", "reloading", "inactive", "failed", "activating", "deactivating"}


def check_service() -> Check:
    try:
        active = tools.run_tool(["systemctl", "is-active", SERVICE], package="systemd").output
        enabled = tools.run_tool(["systemctl", "is-enabled", SERVICE], package="systemd").output
    except tools.ToolMissingError:
        return Check("service", Verdict.SKIP, "no systemd here")
    active = (active.splitlines() or ["unknown"])[0].strip()
    enabled = (enabled.splitlines() or ["unknown"])[0].strip()
    if active not in _UNIT_STATES:
        return Check("service", Verdict.SKIP, "systemd is not running here; nothing to ask")
    if enabled not in {"enabled", "disabled", "static", "masked", "enabled-runtime", "linked"}:
        return Check("service", Verdict.FAIL, f"{SERVICE} is not installed",
                     "sudo deploy/install.sh")
    state = f"{active}, {enabled}"
    if active in ("active", "reloading"):
        verdict = Verdict.OK if enabled == "enabled" else Verdict.WARN
        return Check("service", verdict, state,
                     "" if verdict is Verdict.OK else f"sudo systemctl enable {SERVICE}")
    if active == "failed":
        # after StartLimitBurst crashes systemd refuses a plain restart until reset-failed
        result = tools.run_tool(["systemctl", "show", "-P", "Result", SERVICE],
                                package="systemd").output.strip()
        if result == "start-limit-hit":
            state += ", start limit hit: systemd stopped restarting it"
        return Check("service", Verdict.FAIL, state,
                     f"see 'journalctl -u {SERVICE} -n 50', fix, then 'sudo systemctl "
                     f"reset-failed {SERVICE} && sudo systemctl restart {SERVICE}'")
    if active == "activating":
        return Check("service", Verdict.WARN, state, "starting; run 'maigic doctor' again soon")
    return Check("service", Verdict.FAIL, state, f"sudo systemctl enable --now {SERVICE}")


def check_hub(config: HubConfig) -> Check:
    """What the running hub itself says over its status socket."""
    path = config.status.socket
    try:
        if not path.exists():
            return Check("hub", Verdict.SKIP, f"not running (no {path})")
        status = query_status(path)
    except PermissionError:
        return Check("hub", Verdict.FAIL, f"{path} is owner-only", "run 'sudo maigic doctor'")
    except (OSError, ValueError) as exc:
        return Check("hub", Verdict.FAIL, f"no answer on {path}: {exc}",
                     f"see 'journalctl -u {SERVICE} -n 50'")
    state = str(status.get("state", "unknown"))
    detail = (f"state {state}, mode {status.get('mode')}, "
              f"devices open: {', '.join(status.get('devices') or []) or 'none'}")
    earpiece = status.get("earpiece")
    if isinstance(earpiece, dict) and earpiece.get("connected") is False:
        return Check("hub", Verdict.WARN, f"{detail}; {earpiece.get('audio')}",
                     "switch the earpiece on / bring it close; see the earpiece line")
    if state.lower() == "offline":
        cause = status.get("cause") or "provider unreachable"
        return Check("hub", Verdict.WARN, f"{detail} ({cause})",
                     "see the provider line; the hub answers offline meanwhile")
    return Check("hub", Verdict.OK, detail)


def check_clock(config: HubConfig | None = None) -> Check:
    """NTP sync; only a warning when the config needs no provider (TLS is what needs the time)."""
    try:
        result = tools.run_tool(["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
                                package="systemd", timeout=5.0)
    except tools.ToolMissingError:
        return Check("clock", Verdict.SKIP, "timedatectl not available")
    value = result.output.strip()
    if not result.ok or value not in ("yes", "no"):
        return Check("clock", Verdict.SKIP, "timedatectl gave no answer (systemd not running?)")
    if value == "yes":
        return Check("clock", Verdict.OK, "synchronised (NTP)")
    if config is not None and not config.needs_openai:
        return Check("clock", Verdict.WARN,
                     f"not synchronised; mode '{config.mode}' is offline and does not need it",
                     "before going online: connect to the network; 'sudo timedatectl set-ntp true'")
    return Check("clock", Verdict.FAIL,
                 "not synchronised: the Pi has no battery clock, and TLS fails with a wrong time",
                 "connect to the network; 'sudo timedatectl set-ntp true'")
