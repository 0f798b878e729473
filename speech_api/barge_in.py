"""Barge-in: where to cut the answer items the user was hearing when they spoke.

One rule for the library's realtime agent and the hub's Session actor. The
provider is told, per answer item, how much of it the user really heard, so the
conversation it keeps matches what was said aloud: what the speaker played,
never more than the provider sent, and nothing for an item not heard at all.
"""

from __future__ import annotations

from collections.abc import Mapping


def truncation_points(played_ms: Mapping[str, int], received_ms: Mapping[str, float], *,
                      answering: bool) -> list[tuple[str, int]]:
    """``(item_id, audio_end_ms)`` for each answer item to truncate, in ``played_ms`` order.

    ``played_ms``: per item, what the speaker played before it was silenced;
    ``received_ms``: per item of the current answer, how much audio the provider sent
    (items not in it belong to no current answer and are left alone);
    ``answering``: the answer was still being generated (then even an item heard in
    full is cut there, since the model would otherwise go on after it).
    """
    points = []
    for item_id, ms in played_ms.items():
        received = received_ms.get(item_id)
        if received is None or ms <= 0 or (ms >= received and not answering):
            continue  # not an answer item, nothing heard, or a finished item heard in full
        points.append((item_id, int(min(ms, received))))
    return points
