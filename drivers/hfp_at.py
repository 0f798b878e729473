"""The audio gateway's side of the earpiece's button: AT commands in, replies out.

An HFP headset's button asks for voice recognition (``AT+BVRA=1``; ``AT+BVRA=0``
when the gateway told it recognition is on); an HSP headset sends a key press
(``AT+CKPD=200``). With bluez-alsa these reach us through the RFCOMM socket
bluealsa hands out over D-Bus (``org.bluealsa.RFCOMM1.Open``), each AT message
rebuilt by bluealsa as ``AT<cmd>=<value>\\r`` (its ``at_build``). Once a client has
that socket, bluealsa no longer answers the commands it does not know itself, so
we must answer every one of those (``ERROR``), or the headset waits for a reply.

Replies are byte for byte what HFP 1.8 / HSP 1.2 (and 3GPP 27.007 result codes,
verbose mode) prescribe: ``\\r\\nOK\\r\\n``, ``\\r\\nERROR\\r\\n``, and the unsolicited
``\\r\\n+BVRA: 0\\r\\n`` when the gateway ends voice recognition (the conversation
is over), so the headset's next press is ``AT+BVRA=1`` again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

OK = b"\r\nOK\r\n"
ERROR = b"\r\nERROR\r\n"
VOICE_RECOGNITION_OFF = b"\r\n+BVRA: 0\r\n"

# Commands bluealsa 4.0.0 answers itself (src/ba-rfcomm.c, rfcomm_get_callback): we
# must not answer them too. Keyed by (form, command); form: "" = AT<cmd>, "?" = get,
# "=?" = test, "=" = set.
BLUEALSA_ANSWERS = frozenset({
    ("=?", "+CIND"), ("?", "+CIND"), ("=", "+CMER"), ("=", "+BIA"), ("=", "+BRSF"),
    ("=", "+NREC"), ("=", "+VGM"), ("=", "+VGS"), ("?", "+BTRH"), ("", "+BCC"),
    ("=", "+BCS"), ("=", "+BAC"), ("=", "+ANDROID"), ("=", "+IPHONEACCEV"), ("=", "+XAPL"),
})


class Press(Enum):
    VOICE_RECOGNITION_ON = "AT+BVRA=1"  # HFP: the button (often a long press) asks to talk
    VOICE_RECOGNITION_OFF = "AT+BVRA=0"  # HFP: pressed again while recognition is on
    KEY = "AT+CKPD=200"  # HSP: the one button


@dataclass(frozen=True, slots=True)
class AtCommand:
    form: str  # "", "?", "=?" or "="
    command: str  # "+BVRA", upper case
    value: str  # after "=", "" otherwise


@dataclass(frozen=True, slots=True)
class Handled:
    reply: bytes  # what to write back ("" when bluealsa answers it itself)
    press: Press | None  # the button, if this was a press


def parse_at(text: str) -> AtCommand | None:
    """One ``AT...`` command (a reply from the headset, ``\\r\\n...``, is None)."""
    line = text.strip("\r\n ")
    if line[:2].upper() != "AT":
        return None
    body = line[2:]
    if body.endswith("=?"):
        return AtCommand("=?", body[:-2].upper(), "")
    if body.endswith("?"):
        return AtCommand("?", body[:-1].upper(), "")
    if "=" in body:
        command, value = body.split("=", 1)
        return AtCommand("=", command.upper(), value.strip())
    return AtCommand("", body.upper(), "")


def split_messages(data: bytes) -> list[str]:
    """AT commands in one read (one per ``\\r``); replies (``\\r\\n..\\r\\n``) dropped."""
    text = data.decode("ascii", errors="replace")
    return [part for part in text.split("\r") if part.strip("\n ").upper().startswith("AT")]


class GatewayButton:
    """Answers the headset's AT commands; remembers whether recognition is on."""

    def __init__(self) -> None:
        self.voice_recognition = False  # the headset believes recognition is on

    def handle(self, text: str) -> Handled | None:
        """The reply to one forwarded message (None: not a command, nothing to say)."""
        at = parse_at(text)
        if at is None:
            return None
        if (at.form, at.command) in BLUEALSA_ANSWERS:
            return Handled(b"", None)
        if at.form == "=" and at.command == "+BVRA" and at.value in ("0", "1"):
            self.voice_recognition = at.value == "1"
            press = Press.VOICE_RECOGNITION_ON if self.voice_recognition \
                else Press.VOICE_RECOGNITION_OFF
            return Handled(OK, press)
        if at.form == "=" and at.command == "+CKPD" and at.value == "200":
            return Handled(OK, Press.KEY)
        return Handled(ERROR, None)  # unsupported: the headset must not wait for a reply

    def conversation_over(self) -> bytes:
        """The unsolicited result to send when the turn ends (b"" if none is due)."""
        if not self.voice_recognition:
            return b""
        self.voice_recognition = False
        return VOICE_RECOGNITION_OFF
