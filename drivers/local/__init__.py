"""Offline engines: nothing here touches the network or downloads a model.

- ``vad`` / ``segmenter``: WebRTC and Silero VAD, smoothed speech start/end;
- ``wakeword``: microWakeWord, pocketsphinx keyphrase, openWakeWord (user model);
- ``stt``: pocketsphinx ``LocalSpeechToTextClient`` (free, grammar, grammar+free);
  ``whisper_stt``: optional faster-whisper with a user-supplied model;
- ``tts``: ``LocalTextToSpeechClient`` (flite, espeak-ng, piper with a user voice);
- ``skills``: offline intents, also offered to online models as function tools;
- ``framing``, ``grammar``, ``sentences``, ``realtime_stt``: shared plumbing.
"""
