"""A stand-in for bluealsa 4.0's D-Bus service on a private bus the test starts.

:func:`private_bus` runs Debian's ``dbus-daemon --session`` (a real message bus)
and yields its address. :class:`BlueAlsaStandIn` owns ``org.bluealsa`` there and
answers what bluealsa answers (``GetManagedObjects`` on ``/org/bluealsa``,
``Properties.Get/GetAll``, ``org.bluealsa.RFCOMM1.Open`` returning one end of a
SEQPACKET socketpair as a Unix fd) and signals what it signals
(``InterfacesAdded`` / ``InterfacesRemoved``, ``PropertiesChanged``). The test
plays the headset on the other end of the socket: it writes the AT command the
way bluealsa forwards it (``AT+BVRA=1\\r``) and reads our replies byte for byte.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dbus_fast import BusType, Message, MessageType, Variant
from dbus_fast.aio import MessageBus

from drivers.bluealsa_dbus import OBJECTS_IFACE, PCM_IFACE, PROPS_IFACE, RFCOMM_IFACE, ROOT

DEVICE = "/org/bluealsa/hci0/dev_00_11_22_33_44_55"
RFCOMM_PATH = f"{DEVICE}/rfcomm"
SOURCE_PATH = f"{DEVICE}/hfpag/source"


@contextmanager
def private_bus() -> Iterator[str]:
    """A real D-Bus daemon of our own; its address."""
    daemon = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert daemon.stdout is not None
        address = daemon.stdout.readline().strip()
        assert address.startswith("unix:"), f"dbus-daemon printed {address!r}"
        yield address
    finally:
        daemon.terminate()
        daemon.wait(5)


class BlueAlsaStandIn:
    def __init__(self, address: str) -> None:
        self.address = address
        self.objects: dict[str, dict[str, dict[str, Variant]]] = {}
        self.headset: socket.socket | None = None  # the headset's end of the RFCOMM socket
        self.opens = 0
        self._sent: list[socket.socket] = []
        self._loop = asyncio.new_event_loop()
        self._bus: MessageBus | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="bluealsa-standin",
                                        daemon=True)

    def __enter__(self) -> BlueAlsaStandIn:
        self._thread.start()
        self._run(self._start())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bus is not None:
            self._loop.call_soon_threadsafe(self._bus.disconnect)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
        for sock in [*self._sent, *([self.headset] if self.headset else [])]:
            sock.close()

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(5)

    async def _start(self) -> None:
        bus = await MessageBus(bus_address=self.address, bus_type=BusType.SESSION,
                               negotiate_unix_fd=True).connect()
        bus.add_message_handler(self._on_call)
        await bus.request_name("org.bluealsa")
        self._bus = bus

    # --- what the test does ------------------------------------------------------------

    def connect_headset(self, transport: str = "HFP-AG", battery: int = 70,
                        codec: str = "mSBC") -> None:
        """The earpiece connects: bluealsa's RFCOMM and PCM objects appear."""
        self._run(self._add(RFCOMM_PATH, RFCOMM_IFACE, {
            "Transport": Variant("s", transport), "Features": Variant("u", 0),
            "Battery": Variant("y", battery)}))
        self._run(self._add(SOURCE_PATH, PCM_IFACE, {
            "Transport": Variant("s", transport), "Mode": Variant("s", "source"),
            "Codec": Variant("s", codec),
            "Sampling": Variant("u", 16000 if codec == "mSBC" else 8000)}))

    def disconnect_headset(self) -> None:
        for path, iface in ((SOURCE_PATH, PCM_IFACE), (RFCOMM_PATH, RFCOMM_IFACE)):
            self._run(self._remove(path, iface))
        if self.headset is not None:
            self.headset.close()
            self.headset = None

    def set_battery(self, percent: int) -> None:
        self._run(self._changed(RFCOMM_PATH, RFCOMM_IFACE, {"Battery": Variant("y", percent)}))

    # --- the bus side ------------------------------------------------------------------

    async def _add(self, path: str, iface: str, props: dict[str, Variant]) -> None:
        self.objects.setdefault(path, {})[iface] = props
        await self._signal(ROOT, OBJECTS_IFACE, "InterfacesAdded", "oa{sa{sv}}",
                           [path, {iface: props}])

    async def _remove(self, path: str, iface: str) -> None:
        self.objects.get(path, {}).pop(iface, None)
        if not self.objects.get(path):
            self.objects.pop(path, None)
        await self._signal(ROOT, OBJECTS_IFACE, "InterfacesRemoved", "oas", [path, [iface]])

    async def _changed(self, path: str, iface: str, props: dict[str, Variant]) -> None:
        self.objects[path][iface].update(props)
        await self._signal(path, PROPS_IFACE, "PropertiesChanged", "sa{sv}as",
                           [iface, props, []])

    async def _signal(self, path: str, iface: str, member: str, signature: str,
                      body: list[Any]) -> None:
        assert self._bus is not None
        await self._bus.send(Message.new_signal(path, iface, member, signature, body))

    def _on_call(self, msg: Message) -> Message | None:
        if msg.message_type != MessageType.METHOD_CALL or msg.path is None:
            return None
        if msg.interface == OBJECTS_IFACE and msg.member == "GetManagedObjects" \
                and msg.path == ROOT:
            return Message.new_method_return(msg, "a{oa{sa{sv}}}", [self.objects])
        if msg.interface == PROPS_IFACE and msg.member == "Get":
            iface, name = msg.body
            value = self.objects.get(msg.path, {}).get(iface, {}).get(name)
            if value is None:
                return Message.new_error(msg, "org.freedesktop.DBus.Error.InvalidArgs",
                                         f"no {iface}.{name} at {msg.path}")
            return Message.new_method_return(msg, "v", [value])
        if msg.interface == RFCOMM_IFACE and msg.member == "Open":
            if RFCOMM_IFACE not in self.objects.get(msg.path, {}):
                return Message.new_error(msg, "org.freedesktop.DBus.Error.UnknownObject",
                                         msg.path)
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            self.headset = ours
            self.opens += 1
            reply = Message.new_method_return(msg, "h", [0], unix_fds=[theirs.fileno()])
            self._sent.append(theirs)  # closed at exit: the reply may not be written yet
            return reply
        return Message.new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod",
                                 f"{msg.interface}.{msg.member}")
