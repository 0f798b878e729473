"""bluealsa over D-Bus: the earpiece's button (RFCOMM), battery and codec.

bluez-alsa 4.0 (Debian bookworm) publishes, under ``/org/bluealsa`` on the system
bus (an ``org.freedesktop.DBus.ObjectManager``):

- ``org.bluealsa.RFCOMM1`` at ``.../dev_XX_XX_XX_XX_XX_XX/rfcomm`` while an HFP/HSP
  headset is connected: ``Open() -> h`` hands us a SEQPACKET socket carrying the AT
  commands bluealsa does not handle itself (the button's ``AT+BVRA`` / ``AT+CKPD``,
  answered by :class:`drivers.hfp_at.GatewayButton`); ``Battery`` (byte, 0-100,
  255 = unknown; from the headset's ``+IPHONEACCEV``) and ``Transport``.
- ``org.bluealsa.PCM1`` objects with ``Codec`` (a string: "CVSD" = 8 kHz, "mSBC" =
  16 kHz wideband speech), ``Sampling``, ``Transport``, ``Mode``.

BlueZ's own ``org.bluez.Battery1`` ``Percentage`` on the device is the fallback
for the battery. Objects come and go with the connection; we follow
``InterfacesAdded`` / ``InterfacesRemoved`` / ``PropertiesChanged`` signals rather
than polling, and bluealsa itself (``NameOwnerChanged``). The D-Bus library is
dbus-fast (asyncio, maintained, passes Unix file descriptors), run on one thread
of its own; everything the hub calls is thread-safe.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drivers.backoff import Backoff
from drivers.hfp_at import GatewayButton, Press, split_messages

log = logging.getLogger(__name__)

SERVICE = "org.bluealsa"
ROOT = "/org/bluealsa"
RFCOMM_IFACE = "org.bluealsa.RFCOMM1"
PCM_IFACE = "org.bluealsa.PCM1"
BATTERY_IFACE = "org.bluez.Battery1"
PROPS_IFACE = "org.freedesktop.DBus.Properties"
OBJECTS_IFACE = "org.freedesktop.DBus.ObjectManager"
CALL_TIMEOUT_S = 5.0
JOIN_TIMEOUT_S = 3.0
SAMPLE_RATE_OF_CODEC = {"CVSD": 8000, "mSBC": 16000}

OnPress = Callable[[Press, int], None]  # (what the headset sent, time.monotonic_ns())


@dataclass(frozen=True, slots=True)
class EarpieceInfo:
    """What bluealsa / BlueZ say about the earpiece; None = not known."""

    connected: bool = False  # an HFP/HSP link (RFCOMM) is up
    transport: str | None = None  # "HFP-AG" or "HSP-AG" (our side of the link)
    battery_percent: int | None = None
    codec: str | None = None  # "CVSD" (8 kHz) or "mSBC" (16 kHz)
    sample_rate: int | None = None
    button: bool = False  # we hold the RFCOMM socket: the button reaches us


def bluez_device_path(bluealsa_path: str) -> str:
    """/org/bluealsa/hci0/dev_XX/rfcomm -> /org/bluez/hci0/dev_XX (BlueZ's device)."""
    parts = bluealsa_path.split("/")
    return "/".join(["", "org", "bluez", *parts[3:5]])


class BlueAlsaLink:
    """Follows bluealsa on D-Bus; :meth:`start` once, :meth:`close` once."""

    def __init__(self, on_press: OnPress, *, bus_address: str | None = None,
                 button: bool = True, backoff: Backoff | None = None) -> None:
        self.on_press = on_press
        self.bus_address = bus_address  # None: the system bus
        self.button_enabled = button
        self.gateway = GatewayButton()
        self._backoff = backoff or Backoff(0.5, 30.0)
        self._objects: dict[str, dict[str, dict[str, Any]]] = {}
        self._bluez_battery: int | None = None
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._rfcomm: socket.socket | None = None
        self._rfcomm_path: str | None = None
        self._bus: Any = None
        self._reachable: bool | None = None  # for one log line per change
        self._tasks: set[asyncio.Future[Any]] = set()
        self.started = threading.Event()  # the first sync with bluealsa was tried

    # --- the hub's side (any thread) ---------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._thread_main, name="bluealsa-dbus",
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(JOIN_TIMEOUT_S)
            if self._thread.is_alive():
                log.error("the bluealsa D-Bus thread did not stop within %.0f s",
                          JOIN_TIMEOUT_S)

    def snapshot(self) -> EarpieceInfo:
        with self._lock:
            rfcomm = next((props for ifaces in self._objects.values()
                           if (props := ifaces.get(RFCOMM_IFACE)) is not None), None)
            codecs = [ifaces[PCM_IFACE] for ifaces in self._objects.values()
                      if PCM_IFACE in ifaces
                      and str(ifaces[PCM_IFACE].get("Transport", "")).startswith(("HFP", "HSP"))]
            battery = rfcomm.get("Battery") if rfcomm else None
            if not isinstance(battery, int) or not 0 <= battery <= 100:
                battery = self._bluez_battery
            codec = str(codecs[0].get("Codec")) if codecs else None
            rate = codecs[0].get("Sampling") if codecs else None
            return EarpieceInfo(
                connected=rfcomm is not None,
                transport=str(rfcomm.get("Transport")) if rfcomm else None,
                battery_percent=battery,
                codec=codec,
                sample_rate=int(rate) if isinstance(rate, int) else
                SAMPLE_RATE_OF_CODEC.get(codec or ""),
                button=self._rfcomm is not None,
            )

    def conversation_over(self) -> None:
        """The turn ended: tell an HFP headset recognition is off (``+BVRA: 0``)."""
        loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(self._send_unsolicited)

    # --- the D-Bus thread ------------------------------------------------------------

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception:
            log.exception("the bluealsa D-Bus client failed; earpiece button and battery off")

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        while not self._stop.is_set():
            try:
                await self._session()
            except Exception as exc:  # noqa: BLE001 - no bus, no bluealsa: retry later
                self._unreachable(f"{type(exc).__name__}: {exc}")
            finally:
                self._forget_all()
                self.started.set()
            delay = self._backoff.next_delay()
            try:
                await asyncio.wait_for(self._stop.wait(), delay)
            except TimeoutError:
                continue

    async def _session(self) -> None:
        from dbus_fast import BusType
        from dbus_fast.aio import MessageBus

        bus = MessageBus(bus_address=self.bus_address, bus_type=BusType.SYSTEM,
                         negotiate_unix_fd=True)
        await asyncio.wait_for(bus.connect(), CALL_TIMEOUT_S)
        self._bus = bus
        try:
            bus.add_message_handler(self._on_message)
            for rule in (
                f"type='signal',sender='{SERVICE}',interface='{OBJECTS_IFACE}'",
                f"type='signal',sender='{SERVICE}',interface='{PROPS_IFACE}'",
                "type='signal',sender='org.bluez',interface='org.freedesktop.DBus.Properties',"
                f"arg0='{BATTERY_IFACE}'",
                "type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',"
                f"arg0='{SERVICE}'",
            ):
                await self._call("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                 "org.freedesktop.DBus.AddMatch", "s", [rule])
            await self._sync()
            self._backoff.reset()
            self.started.set()
            disconnected = asyncio.ensure_future(bus.wait_for_disconnect())  # type: ignore[no-untyped-call]
            stop = asyncio.ensure_future(self._stop_wait())
            await asyncio.wait({disconnected, stop}, return_when=asyncio.FIRST_COMPLETED)
            for task in (disconnected, stop):
                task.cancel()
            if not self._stop_set():
                raise ConnectionError("the D-Bus connection closed")
        finally:
            self._bus = None
            bus.disconnect()

    async def _stop_wait(self) -> None:
        assert self._stop is not None
        await self._stop.wait()

    def _stop_set(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    async def _call(self, destination: str, path: str, method: str,
                    signature: str = "", body: list[Any] | None = None) -> Any:
        """``method`` is "interface.Member"."""
        from dbus_fast import Message, MessageType

        interface, member = method.rsplit(".", 1)
        reply = await asyncio.wait_for(self._bus.call(Message(
            destination=destination, path=path, interface=interface, member=member,
            signature=signature, body=body or [])), CALL_TIMEOUT_S)
        if reply.message_type == MessageType.ERROR:
            raise LookupError(f"{member}: {reply.error_name}: {reply.body}")
        return reply

    async def _sync(self) -> None:
        """Everything bluealsa has now (it may not run: then retry with backoff)."""
        reply = await self._call(SERVICE, ROOT, f"{OBJECTS_IFACE}.GetManagedObjects")
        objects = reply.body[0]
        with self._lock:
            self._objects = {path: {iface: _plain(props) for iface, props in ifaces.items()}
                             for path, ifaces in objects.items()}
        self._reachable_now()
        await self._follow_objects()

    async def _follow_objects(self) -> None:
        """Open the RFCOMM socket of a (new) headset; refresh BlueZ's battery."""
        with self._lock:
            path = next((p for p, ifaces in self._objects.items() if RFCOMM_IFACE in ifaces),
                        None)
        if path is None:
            if self._rfcomm_path is not None:
                log.info("earpiece HFP/HSP link gone (%s)", self._rfcomm_path)
            self._close_rfcomm()
            return
        if path == self._rfcomm_path:
            return
        self._close_rfcomm()
        self._rfcomm_path = path
        info = self.snapshot()
        log.info("earpiece HFP/HSP link up (%s, %s, battery %s)", path, info.transport,
                 f"{info.battery_percent} %" if info.battery_percent is not None else "unknown")
        await self._read_bluez_battery(path)
        if self.button_enabled:
            await self._open_rfcomm(path)

    async def _open_rfcomm(self, path: str) -> None:
        try:
            reply = await self._call(SERVICE, path, f"{RFCOMM_IFACE}.Open")
        except (LookupError, TimeoutError) as exc:
            log.warning("the earpiece's button is not available: RFCOMM Open failed (%s)", exc)
            return
        fd = reply.unix_fds[reply.body[0]]
        sock = socket.socket(fileno=fd)
        sock.setblocking(False)
        self._rfcomm = sock
        assert self._loop is not None
        self._loop.add_reader(sock.fileno(), self._on_rfcomm_readable)
        log.info("earpiece button: listening for AT+BVRA / AT+CKPD on %s", path)

    async def _read_bluez_battery(self, path: str) -> None:
        try:
            reply = await self._call("org.bluez", bluez_device_path(path), f"{PROPS_IFACE}.Get",
                                     "ss", [BATTERY_IFACE, "Percentage"])
        except (LookupError, TimeoutError):
            self._bluez_battery = None  # no BlueZ battery provider for this device
            return
        value = reply.body[0].value
        self._bluez_battery = int(value) if isinstance(value, int) else None

    def _on_rfcomm_readable(self) -> None:
        sock = self._rfcomm
        if sock is None:
            return
        try:
            data = sock.recv(512)
        except BlockingIOError:
            return
        except OSError as exc:
            data = b""
            log.info("earpiece RFCOMM socket failed: %s", exc)
        if not data:
            self._close_rfcomm()
            return
        for message in split_messages(data):
            handled = self.gateway.handle(message)
            if handled is None:
                continue
            if handled.reply:
                self._send(handled.reply)
            if handled.press is not None:
                log.info("earpiece button: %s", handled.press.value)
                try:
                    self.on_press(handled.press, time.monotonic_ns())
                except Exception:
                    log.exception("the earpiece button's handler failed")
            elif handled.reply:
                log.debug("earpiece sent %r; answered %r", message, handled.reply)

    def _send(self, data: bytes) -> None:
        sock = self._rfcomm
        if sock is None:
            return
        try:
            sock.send(data)
        except OSError as exc:
            log.info("earpiece RFCOMM write failed: %s", exc)
            self._close_rfcomm()

    def _send_unsolicited(self) -> None:
        if self._rfcomm is None:
            return
        data = self.gateway.conversation_over()
        if data:
            self._send(data)

    def _close_rfcomm(self) -> None:
        sock, self._rfcomm = self._rfcomm, None
        self._rfcomm_path = None
        self.gateway.voice_recognition = False
        if sock is not None:
            if self._loop is not None:
                self._loop.remove_reader(sock.fileno())
            sock.close()

    def _forget_all(self) -> None:
        self._close_rfcomm()
        with self._lock:
            self._objects = {}

    def _on_message(self, msg: Any) -> None:
        member, iface = msg.member, msg.interface
        if member == "NameOwnerChanged":
            if msg.body[2]:
                log.info("bluealsa appeared on D-Bus")
                self._spawn(self._resync())
            else:
                self._unreachable("bluealsa left D-Bus")
                self._forget_all()
            return
        if iface == OBJECTS_IFACE and member == "InterfacesAdded":
            path, ifaces = msg.body
            with self._lock:
                entry = self._objects.setdefault(path, {})
                for name, props in ifaces.items():
                    entry[name] = _plain(props)
        elif iface == OBJECTS_IFACE and member == "InterfacesRemoved":
            path, names = msg.body
            with self._lock:
                entry = self._objects.get(path, {})
                for name in names:
                    entry.pop(name, None)
                if not entry:
                    self._objects.pop(path, None)
        elif iface == PROPS_IFACE and member == "PropertiesChanged":
            self._properties_changed(msg.path, msg.body[0], msg.body[1])
            return
        else:
            return
        self._spawn(self._follow_objects())

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)  # asyncio keeps only weak references to tasks
        task.add_done_callback(self._tasks.discard)

    def _properties_changed(self, path: str, iface: str, changed: dict[str, Any]) -> None:
        if iface == BATTERY_IFACE:
            value = _plain(changed).get("Percentage")
            if isinstance(value, int):
                self._bluez_battery = value
            return
        with self._lock:
            props = self._objects.get(path, {}).get(iface)
            if props is not None:
                props.update(_plain(changed))
        if iface == RFCOMM_IFACE and "Battery" in changed:
            log.info("earpiece battery: %s", _plain(changed)["Battery"])

    async def _resync(self) -> None:
        try:
            await self._sync()
        except Exception as exc:  # noqa: BLE001 - it may leave again at once
            self._unreachable(f"{type(exc).__name__}: {exc}")

    def _unreachable(self, reason: str) -> None:
        if self._reachable is not False:
            log.info("bluealsa is not reachable on D-Bus (%s); earpiece button and battery "
                     "unavailable until it is (retrying quietly)", reason)
        self._reachable = False

    def _reachable_now(self) -> None:
        if self._reachable is False:
            log.info("bluealsa reachable on D-Bus again")
        self._reachable = True


def _plain(props: dict[str, Any]) -> dict[str, Any]:
    """dbus-fast Variants -> their values."""
    return {key: getattr(value, "value", value) for key, value in props.items()}

