"""Wyoming protocol clients: speech-to-text, text-to-speech and wake word at servers on the
network (``wyoming-faster-whisper``, ``wyoming-piper``, ``wyoming-openwakeword``).

The ``wyoming`` library is asyncio; each client runs it on a loop thread of its own
(:mod:`drivers.wyoming.loop`) behind the same blocking interface as every other engine.
"""

from drivers.wyoming.loop import LoopThread
from drivers.wyoming.stt import WyomingSpeechToTextClient
from drivers.wyoming.tts import WyomingTextToSpeechClient
from drivers.wyoming.wake import WyomingWakeWord

__all__ = ["LoopThread", "WyomingSpeechToTextClient", "WyomingTextToSpeechClient",
           "WyomingWakeWord"]
