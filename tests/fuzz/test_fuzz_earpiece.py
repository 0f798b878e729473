"""What the earpiece sends is outside input: the AT handler and the input_event parser
take any bytes without raising, and answer only what a gateway may answer."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from drivers.evdev_keys import INPUT_EVENT, MEDIA_KEYS, key_edges
from drivers.hfp_at import ERROR, OK, GatewayButton, split_messages


@given(st.binary(max_size=600))
def test_any_rfcomm_bytes_get_ok_error_or_nothing(data: bytes) -> None:
    gateway = GatewayButton()
    for message in split_messages(data):
        handled = gateway.handle(message)
        assert handled is None or handled.reply in (b"", OK, ERROR)
        if handled is not None and handled.press is not None:
            assert handled.reply == OK


@given(st.binary(max_size=INPUT_EVENT.size * 20))
def test_any_input_bytes_give_only_media_key_edges(data: bytes) -> None:
    for code, pressed in key_edges(data):
        assert code in MEDIA_KEYS
        assert isinstance(pressed, bool)
