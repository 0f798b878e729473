"""OpenAI provider: the seed's ``OpenAI*`` clients, the Realtime session, chat.

Importing this package (or :mod:`drivers.openai.realtime`) does not import the
``openai`` SDK; the HTTP clients load it on first use.
"""

from drivers.openai.chat import (
    ChatClient,
    ChatDone,
    ChatEvent,
    ChatStream,
    TextDelta,
    ToolCallRequest,
)
from drivers.openai.config import OpenAIConfig
from drivers.openai.errors import OpenAISynthesisError, OpenAITranscriptionError
from drivers.openai.realtime import (
    OpenAIAsyncRealtimeSession,
    OpenAIRealtimeClient,
    OpenAIRealtimeSession,
    OpenAIRealtimeTranscriptionSession,
)
from drivers.openai.stt import OpenAISpeechToTextClient
from drivers.openai.tts import OpenAITextToSpeechClient

__all__ = [
    "ChatClient",
    "ChatDone",
    "ChatEvent",
    "ChatStream",
    "OpenAIAsyncRealtimeSession",
    "OpenAIConfig",
    "OpenAIRealtimeClient",
    "OpenAIRealtimeSession",
    "OpenAIRealtimeTranscriptionSession",
    "OpenAISpeechToTextClient",
    "OpenAISynthesisError",
    "OpenAITextToSpeechClient",
    "OpenAITranscriptionError",
    "TextDelta",
    "ToolCallRequest",
]
