from tests.alsa.alsa_harness import alsa_files  # noqa: F401
from tests.openai.conftest import config, server  # noqa: F401
