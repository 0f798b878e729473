"""A tour of the OpenAI provider: speak, transcribe, chat, and a realtime conversation.

python examples/openai_integration_example.py question.wav --out reply.wav
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.openai import (
    ChatClient,
    OpenAIRealtimeClient,
    OpenAISpeechToTextClient,
    OpenAITextToSpeechClient,
    TextDelta,
)
from examples._common import add_input_options, config_from, input_audio, parser, run
from speech_api import (
    AudioChunk,
    AudioDelta,
    AudioFormat,
    ResponseDone,
    SessionReady,
    TranscriptDelta,
    join_chunks,
)


async def main(args: argparse.Namespace) -> None:
    config = config_from(args)
    question = await input_audio(args)  # bad input fails before any request
    tts = OpenAITextToSpeechClient(config)
    greeting = await tts.synthesize(
        "Hello! This is OpenAI's text-to-speech.", voice_id="nova", audio_format=AudioFormat.MP3
    )
    print(f"TTS: {len(greeting)} bytes of MP3")

    stt = OpenAISpeechToTextClient(config)
    print(f"STT: {await stt.transcribe(question)}")

    reply = "".join(
        e.text
        for e in await asyncio.to_thread(
            lambda: list(ChatClient(config).stream([{"role": "user", "content": "Say hi"}]))
        )
        if isinstance(e, TextDelta)
    )
    print(f"Chat: {reply}")

    session = await OpenAIRealtimeClient(config).connect_speech_to_speech(
        voice="marin", system_prompt="You are a helpful AI assistant."
    )
    audio: list[AudioChunk] = []
    try:
        await session.initialize_session()
        for frame in question.split(20):
            await session.send_audio(frame)
        # Trailing silence lets the server's VAD notice the end of the question.
        await session.send_audio(AudioChunk.pcm(bytes(48000), 24000))
        async for event in session.receive_events():
            if isinstance(event, SessionReady):
                print("Realtime: session ready")
            elif isinstance(event, TranscriptDelta):
                print(f"AI: {event.delta}", flush=True)
            elif isinstance(event, AudioDelta):
                audio.append(AudioChunk.pcm(event.pcm, event.sample_rate))
            elif isinstance(event, ResponseDone):
                print(f"Realtime: answer {event.status}: {event.transcript}")
                break
    finally:
        await session.close()
    if audio and args.out:
        Path(args.out).write_bytes(join_chunks(audio).to_wav())
        print(f"Saved the spoken answer to {args.out}")


if __name__ == "__main__":
    p = parser("Text-to-speech, speech-to-text, chat and a realtime voice turn.")
    add_input_options(p)
    p.add_argument("--out", help="where to save the realtime answer as WAV")
    sys.exit(run(main(p.parse_args())))
