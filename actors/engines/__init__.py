"""Conversation engines for every mode behind :class:`actors.engine.ConversationEngine`.

``local`` (offline skills), ``chained`` (STT -> chat -> TTS), ``transcribe``
(dictation), ``fallback`` (online engine with the local one behind it) and
``tools`` (the offline skills as function tools of an online model).
"""
