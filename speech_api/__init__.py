"""Provider-agnostic Speech API: the seed's vocabulary (types, clients, errors).

Importing this package loads only the standard library; numpy and soundfile are
imported inside the helpers that need them, provider SDKs never.
"""

from speech_api.audio import (
    AudioChunk,
    AudioFormat,
    decode_audio,
    format_for_path,
    iter_frames,
    join_chunks,
    load_audio,
)
from speech_api.bridge import collect, iterate_in_thread, iterate_sync, run_blocking
from speech_api.clients import (
    BlockingSpeechToTextClient,
    BlockingTextToSpeechClient,
    SpeechToTextClient,
    TextToSpeechClient,
)
from speech_api.errors import (
    APIError,
    AudioError,
    SpeechAPIError,
    SynthesisError,
    TranscriptionError,
)
from speech_api.events import (
    AudioDelta,
    ConnectionLost,
    FunctionCall,
    InputTranscript,
    ProviderError,
    RealtimeEvent,
    RealtimeSessionConfig,
    ResponseDone,
    ResponseStarted,
    SessionReady,
    SpeechStarted,
    SpeechStopped,
    ToolResult,
    TranscriptDelta,
    TranscriptionEvent,
    TurnDetection,
    TurnTiming,
)
from speech_api.realtime import AsyncRealtimeSession, RealtimeSpeechSession
from speech_api.sinks import AudioSink, MemorySink, WavFileSink
from speech_api.sources import AudioSource, ChunkListSource, FileAudioSource, ThreadedAudioSource

__all__ = [
    "APIError",
    "AsyncRealtimeSession",
    "AudioChunk",
    "AudioDelta",
    "AudioError",
    "AudioFormat",
    "AudioSink",
    "AudioSource",
    "BlockingSpeechToTextClient",
    "BlockingTextToSpeechClient",
    "ChunkListSource",
    "ConnectionLost",
    "FileAudioSource",
    "FunctionCall",
    "InputTranscript",
    "MemorySink",
    "ProviderError",
    "RealtimeEvent",
    "RealtimeSessionConfig",
    "RealtimeSpeechSession",
    "ResponseDone",
    "ResponseStarted",
    "SessionReady",
    "SpeechAPIError",
    "SpeechStarted",
    "SpeechStopped",
    "SpeechToTextClient",
    "SynthesisError",
    "TextToSpeechClient",
    "ThreadedAudioSource",
    "ToolResult",
    "TranscriptDelta",
    "TranscriptionError",
    "TranscriptionEvent",
    "TurnDetection",
    "TurnTiming",
    "WavFileSink",
    "collect",
    "decode_audio",
    "format_for_path",
    "iter_frames",
    "iterate_in_thread",
    "iterate_sync",
    "join_chunks",
    "load_audio",
    "run_blocking",
]
__version__ = "0.1.0"
