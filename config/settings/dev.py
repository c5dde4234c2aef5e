"""Local development: DEBUG on unless the environment says otherwise, throwaway keys."""

import os

from .base import *  # noqa: F403
from .base import FIELD_ENCRYPTION_KEYS, ID_NUMBER_HASH_KEY, env_bool

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-insecure-key-never-use-in-production"

# DEVELOPMENT ONLY, public in the repository: they protect nothing. Production requires its own.
FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or [
    "tqYYG_Vt3ujfj9dOeTzfD8rucOQkZneL5edDw07vH0o=",  # dev-only primary
    "GDkyJaghvu1nWpq41cCRhn7OaAATF4-yX9-_z05kGYk=",  # dev-only older key, for rotation
]
ID_NUMBER_HASH_KEY = ID_NUMBER_HASH_KEY or "dev-only-id-number-hash-key-never-use-in-production"
# Two-factor log-in stays on here too (demo secrets: seed_demo); OTP_REQUIRED=0 in the
# environment turns it off for development only: production refuses to start so.
