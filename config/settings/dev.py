"""Local development: DEBUG on unless the environment says otherwise, throwaway keys."""

import os

from config.key_checks import (
    DEVELOPMENT_FERNET_KEYS,
    DEVELOPMENT_ID_NUMBER_HASH_KEY,
    DEVELOPMENT_SECRET_KEY,
)

from .base import *  # noqa: F403
from .base import FIELD_ENCRYPTION_KEYS, ID_NUMBER_HASH_KEY, env_bool

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY") or DEVELOPMENT_SECRET_KEY

# DEVELOPMENT ONLY, public in the repository: they protect nothing. Production requires its own.
# (config/key_checks.py lists them, so production refuses them.)
FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or list(DEVELOPMENT_FERNET_KEYS)
ID_NUMBER_HASH_KEY = ID_NUMBER_HASH_KEY or DEVELOPMENT_ID_NUMBER_HASH_KEY
# Two-factor log-in stays on here too (demo secrets: seed_demo); OTP_REQUIRED=0 in the
# environment turns it off for development only: production refuses to start so.
