"""Offline engines: nothing here touches the network (faster-whisper may download its
model only into a directory the service names, see ``whisper_model``).

- ``vad`` / ``segmenter``: WebRTC and Silero VAD, smoothed speech start/end;
- ``wakeword``: microWakeWord, pocketsphinx keyphrase, openWakeWord (user model);
- ``stt``: pocketsphinx ``LocalSpeechToTextClient`` (free, grammar, grammar+free);
  ``whisper_stt``: faster-whisper (``whisper_model``: where its model comes from,
  checked); ``stt_choice``: which of the two a board gets (``auto``);
- ``tts``: ``LocalTextToSpeechClient`` (flite, espeak-ng, piper with a user voice);
- ``skills``: offline intents (whole requests in free-form text, see ``skills.phrasing``),
  also offered to online models as function tools;
- ``framing``, ``grammar``, ``sentences``, ``realtime_stt``: shared plumbing.
"""
