"""Settings shared by every mode. The environment is read here and nowhere else."""

import datetime
import os
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool) -> bool:
    """Return the environment variable `name` read as a boolean."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    """Return the comma-separated environment variable `name` as a list."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def require_env(name: str) -> str:
    """Return the environment variable `name`, failing start-up clearly if it is missing."""
    value = os.environ.get(name, "")
    if not value:
        raise ImproperlyConfigured(f"The environment variable {name} must be set.")
    return value


def fernet_keys(name: str, value: str) -> list[str]:
    """Return the comma-separated Fernet keys in `value`, failing start-up on a malformed one."""
    keys = [key.strip() for key in value.split(",") if key.strip()]
    for key in keys:
        try:
            Fernet(key)
        except ValueError:
            raise ImproperlyConfigured(
                f"The environment variable {name} holds a value that is not a Fernet key "
                "(32 url-safe base64-encoded bytes)."
            ) from None
    return keys


DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")

# The audit trail files each entry under a case of this model (as AUTH_USER_MODEL names users).
AUDIT_CASE_MODEL = "reissue.ReissueCase"

INSTALLED_APPS = [
    "config.apps.ReissueAdminConfig",  # django.contrib.admin, with our app order
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_fsm",
    "import_export",
    "axes",
    "csp",
    "dbbackup",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Background work: `jobs` (ours, the shared layer) first, so its db_worker command (with a
    # heartbeat) takes the place of django_tasks_db's.
    "jobs",
    "django_tasks",
    "django_tasks_db",
    # The shared layer, below the domain apps (arrows one way: tests/test_layers.py).
    "common",
    "offices",
    "audit",
    "workflow",
    "exports",
    "workdays",
    # The domain.
    "notifications",
    "reissue",
    "claims",
    "incidents",
    "reports",
    "demo",
    "public",  # the pages for citizens and hospitals, outside the admin
    "ratings",  # the citizen rates the service (好差评): follow-ups, appeals
    "twofactor",  # after django-otp's plugins: its admin.py unregisters their device admins
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.SessionRenewalMiddleware",
    "config.middleware.RenamedBackendMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(); then everyone who must give a one-time code is sent to it.
    "django_otp.middleware.OTPMiddleware",
    "twofactor.middleware.SecondFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as axes asks: it turns a lock-out found during log-in into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

# A refused form (an expired CSRF token) gets a page in the admin's frame, like other errors.
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "exports.context_processors.finished_exports",
            ],
        },
    },
]
# Django's, with its inputs, labels and error lists drawn in Python (common/form_renderer.py).
FORM_RENDERER = "common.form_renderer.DrawingRenderer"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT compiles a query its planner thinks dear: a list's capped count at a
    # million cases spent 9 of its 41 ms compiling (EXPLAIN ANALYZE). Our queries are short;
    # nothing here is the long analytic query JIT pays for (bench/lists.py, README).
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    # After any startup options DATABASE_URL gives (?options=...): the last one counts.
    _jit = f"-c jit={os.environ.get('DB_JIT', 'off')}"
    _options["options"] = f"{_options.get('options', '')} {_jit}".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Axes first: it refuses a locked-out log-in before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "common.auth_backends.OneQueryModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

LOGIN_URL = "admin:login"

# Service deadline of a case, in working days after its report (see reports/calendar.py).
SERVICE_DEADLINE_WORKING_DAYS = int(os.environ.get("SERVICE_DEADLINE_WORKING_DAYS", "15"))

# XLSX and JSON exports are built in memory: above this many rows, the user is sent to CSV.
EXPORT_IN_MEMORY_MAX_ROWS = int(os.environ.get("EXPORT_IN_MEMORY_MAX_ROWS", "100000"))
# Exports built in the background (README, "Exports"): the most rows a file of each format
# may hold (an XLSX sheet holds 1,048,576 rows; XLSX and JSON are built in the worker's
# memory), and how many exports one user may have queued or being built at once.
BACKGROUND_EXPORT_MAX_ROWS = {
    "csv": int(os.environ.get("BACKGROUND_EXPORT_MAX_ROWS_CSV", "1000000")),
    "xlsx": int(os.environ.get("BACKGROUND_EXPORT_MAX_ROWS_XLSX", "500000")),
    "json": int(os.environ.get("BACKGROUND_EXPORT_MAX_ROWS_JSON", "500000")),
}
BACKGROUND_EXPORTS_PER_USER = int(os.environ.get("BACKGROUND_EXPORTS_PER_USER", "3"))

# Legacy import in the browser (README, "Import limits"); `manage.py import_cases` applies
# only the cell and the listed-errors limits. Django's own limits stay at their defaults: an
# upload over 2.5 MB is streamed to a temporary file, never held in memory whole.
IMPORT_MAX_UPLOAD_BYTES = int(os.environ.get("IMPORT_MAX_UPLOAD_BYTES", str(20 * 1024 * 1024)))
# 20,000: a worker's import holds the audit chain's head and the offices' reference counters
# from its first batch to its commit, so a longer file would block every office's steps.
IMPORT_MAX_BROWSER_ROWS = int(os.environ.get("IMPORT_MAX_BROWSER_ROWS", "20000"))
# A file of more rows than this is checked and imported by a worker (`manage.py db_worker`),
# its progress on a page; smaller ones within the request, as before.
IMPORT_IN_REQUEST_MAX_ROWS = int(os.environ.get("IMPORT_IN_REQUEST_MAX_ROWS", "2000"))
IMPORT_MAX_CELL_CHARS = int(os.environ.get("IMPORT_MAX_CELL_CHARS", "1000"))
# Seconds an import waits for another one's write to finish (one writes at a time), then is
# refused with a message: an import in the request must not hold its worker past gunicorn's
# timeout.
IMPORT_WAIT_SECONDS = float(os.environ.get("IMPORT_WAIT_SECONDS", "30"))
IMPORT_MAX_XLSX_UNCOMPRESSED_BYTES = int(
    os.environ.get("IMPORT_MAX_XLSX_UNCOMPRESSED_BYTES", str(50 * 1024 * 1024))
)
IMPORT_MAX_XLSX_SHARED_STRINGS_BYTES = int(
    os.environ.get("IMPORT_MAX_XLSX_SHARED_STRINGS_BYTES", str(10 * 1024 * 1024))
)
IMPORT_MAX_ERRORS_LISTED = int(os.environ.get("IMPORT_MAX_ERRORS_LISTED", "100"))

# Searches by a whole ID number a user may make per window (seconds); each is in the access log.
ID_NUMBER_SEARCH_LIMIT = int(os.environ.get("ID_NUMBER_SEARCH_LIMIT", "30"))
ID_NUMBER_SEARCH_WINDOW = int(os.environ.get("ID_NUMBER_SEARCH_WINDOW", "600"))

# Counter computers are shared: a session ends after 30 idle minutes.
SESSION_COOKIE_AGE = 30 * 60
# Activity renews the 30 idle minutes, written at most once a minute (config/middleware.py).
SESSION_SAVE_EVERY_REQUEST = False
SESSION_RENEW_AFTER_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Log-in lock-out (django-axes): 5 failures lock that user name from that address for 30
# minutes, counted from the 5th failure. Keyed on both, so nobody can lock a clerk out from
# another machine by typing their name.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = datetime.timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "config.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "config.security.client_ip"
# Proxies (load balancers) in front of the app that append to X-Forwarded-For; 0: none, the
# client's address is REMOTE_ADDR.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# The public pages (public/, README "Pages for citizens and hospitals"): looks per client
# address and per typed case reference within PUBLIC_LOOK_WINDOW_SECONDS, counted in the
# database, so the limits hold across app servers.
PUBLIC_LOOK_WINDOW_SECONDS = int(os.environ.get("PUBLIC_LOOK_WINDOW_SECONDS", "900"))
PUBLIC_LOOKUP_LIMIT_PER_ADDRESS = int(os.environ.get("PUBLIC_LOOKUP_LIMIT_PER_ADDRESS", "20"))
PUBLIC_LOOKUP_LIMIT_PER_REFERENCE = int(os.environ.get("PUBLIC_LOOKUP_LIMIT_PER_REFERENCE", "5"))
PUBLIC_TEMP_CARD_CHECK_LIMIT_PER_ADDRESS = int(
    os.environ.get("PUBLIC_TEMP_CARD_CHECK_LIMIT_PER_ADDRESS", "60")
)
# Rating the service (ratings/, 好差评): the link in the SMS and on the collection receipt is
# PUBLIC_SITE_URL + /public/rate/<token>/, valid RATING_LINK_MAX_AGE_DAYS after it was made;
# looks and ratings per client address are limited like the other public pages.
PUBLIC_SITE_URL = os.environ.get("PUBLIC_SITE_URL", "http://localhost:8000")
RATING_LINK_MAX_AGE_DAYS = int(os.environ.get("RATING_LINK_MAX_AGE_DAYS", "90"))
RATING_LIMIT_PER_ADDRESS = int(os.environ.get("RATING_LIMIT_PER_ADDRESS", "30"))
# A poor rating (不满意, 非常不满意) is followed up (整改) within this many working days.
RATING_FOLLOW_UP_WORKING_DAYS = int(os.environ.get("RATING_FOLLOW_UP_WORKING_DAYS", "15"))

# Two-factor log-in (django-otp, twofactor/policy.py): superusers, supervisors and auditors give
# a one-time code (TOTP) after the password; with OTP_REQUIRED_FOR_ALL_STAFF every staff user.
# Production refuses to start with OTP_REQUIRED off.
OTP_REQUIRED = env_bool("OTP_REQUIRED", True)
OTP_REQUIRED_FOR_ALL_STAFF = env_bool("OTP_REQUIRED_FOR_ALL_STAFF", False)
OTP_TOTP_ISSUER = "Reissue Desk"
# Throttling per device: after n wrong codes in a row the next is taken only 2**(n-1) seconds
# later (1, 2, 4 ... s). Wrong codes count toward nothing else (not the password lock-out).
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

# Content-Security-Policy in every mode, so a page that needs more shows up in development.
# Checked in Chromium: the admin and our pages need no inline script or style; import-export's
# export form loses two cosmetic styles and its inline "Select all" handler.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# Keys for the encrypted fields and the ID-number search hash. Production requires them;
# dev and test settings fill in fixed development-only values.
# FIELD_ENCRYPTION_KEYS: Fernet keys, the first encrypts, all decrypt (key rotation); the
# AES-GCM key of each is derived from it (common/encryption.py), Fernet values still decrypt.
FIELD_ENCRYPTION_KEYS = fernet_keys(
    "FIELD_ENCRYPTION_KEYS", os.environ.get("FIELD_ENCRYPTION_KEYS", "")
)
ID_NUMBER_HASH_KEY = os.environ.get("ID_NUMBER_HASH_KEY", "")
# The audit trail's HMAC chain; without it SECRET_KEY is used, and rotating that breaks the chain.
AUDIT_CHAIN_KEY = os.environ.get("AUDIT_CHAIN_KEY", "")
# Signed checkpoints of the audit chains (manage.py audit_checkpoint, daily), kept where the
# database's roles cannot write; empty turns them off.
AUDIT_CHECKPOINT_FILE = os.environ.get(
    "AUDIT_CHECKPOINT_FILE", str(BASE_DIR / "var" / "audit-checkpoints.log")
)

# Background work (jobs/, README "Background work"): tasks kept in this database, run by
# `manage.py db_worker` processes on any host. The audit checkpoint has a queue of its own, for
# the one worker on the host that may append to AUDIT_CHECKPOINT_FILE.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "audit"],
    }
}
# A worker writes its heartbeat every JOBS_HEARTBEAT_SECONDS; a task still running under a
# worker silent for JOBS_STALE_AFTER_SECONDS is taken back into the queue (its worker died),
# at most JOBS_MAX_ATTEMPTS times in all.
JOBS_HEARTBEAT_SECONDS = float(os.environ.get("JOBS_HEARTBEAT_SECONDS", "5"))
JOBS_STALE_AFTER_SECONDS = float(os.environ.get("JOBS_STALE_AFTER_SECONDS", "60"))
JOBS_MAX_ATTEMPTS = int(os.environ.get("JOBS_MAX_ATTEMPTS", "3"))
# What `manage.py run_scheduler` enqueues, each once per slot however many schedulers run:
# every N minutes (slots counted from local midnight, so N divides a day) or daily at a local
# time (TIME_ZONE).
SCHEDULED_JOBS = {
    "case_clocks": {
        "task": "reissue.tasks.run_clocks",
        "label": _("Case clocks (lapses, cancellations, expiries, overdue flags)"),
        "every_minutes": 5,
    },
    "purge_import_uploads": {
        "task": "reissue.tasks.purge_import_uploads",
        "label": _("Purge unconfirmed import uploads"),
        "every_minutes": 60,
    },
    "send_due_sms": {
        "task": "notifications.tasks.send_due_sms",
        "label": _("Send the SMS notices due (and their retries)"),
        "every_minutes": 1,
    },
    "document_reminders": {
        "task": "reissue.tasks.remind_documents_due",
        "label": _("Remind citizens of documents promised and due soon"),
        "daily_at": "09:00",
    },
    "purge_expired_exports": {
        "task": "exports.tasks.purge_expired_exports",
        "label": _("Purge the exports kept past their day"),
        "every_minutes": 60,
    },
    "audit_checkpoint": {
        "task": "audit.tasks.write_audit_checkpoint",
        "label": _("Daily audit checkpoint"),
        "daily_at": "01:00",
    },
    # Retention (README "Background work"): what would otherwise grow for ever.
    "purge_public_looks": {
        "task": "public.tasks.purge_public_looks",
        "label": _("Purge the public pages' old rate-limit counts"),
        "every_minutes": 60,
    },
    "purge_finished_work": {
        "task": "jobs.tasks.purge_finished_work",
        "label": _("Purge old job runs and finished tasks"),
        "daily_at": "03:00",
    },
    "wipe_old_sms_phones": {
        "task": "notifications.tasks.wipe_old_sms_phones",
        "label": _("Wipe the phone numbers of old SMS notices"),
        "daily_at": "03:30",
    },
}
# Days the job runs and the queue's finished tasks are kept (a job's latest run always).
BACKGROUND_WORK_KEPT_DAYS = int(os.environ.get("BACKGROUND_WORK_KEPT_DAYS", "30"))

# SMS notices to citizens (notifications/, README "Telling the citizen"). SMS_BACKEND like
# EMAIL_BACKEND: console (development), locmem (tests), file, or a provider's adapter.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "notifications.backends.development.ConsoleBackend")
SMS_FILE_PATH = os.environ.get("SMS_FILE_PATH", str(BASE_DIR / "var" / "sms.jsonl"))
SMS_MAX_ATTEMPTS = int(os.environ.get("SMS_MAX_ATTEMPTS", "5"))
SMS_RETRY_BASE_SECONDS = int(os.environ.get("SMS_RETRY_BASE_SECONDS", "60"))
SMS_TIMEOUT_SECONDS = float(os.environ.get("SMS_TIMEOUT_SECONDS", "10"))
SMS_SIGN_NAME = os.environ.get("SMS_SIGN_NAME", "社保卡服务")
# Each notice's template as registered with the provider (both providers send templates only).
SMS_TEMPLATES = {
    "temp_card_issued": os.environ.get("SMS_TEMPLATE_TEMP_CARD_ISSUED", "SMS_TEMP_CARD_ISSUED"),
    "card_arrived": os.environ.get("SMS_TEMPLATE_CARD_ARRIVED", "SMS_CARD_ARRIVED"),
    "document_due": os.environ.get("SMS_TEMPLATE_DOCUMENT_DUE", "SMS_DOCUMENT_DUE"),
    "claim_approved": os.environ.get("SMS_TEMPLATE_CLAIM_APPROVED", "SMS_CLAIM_APPROVED"),
    "claim_rejected": os.environ.get("SMS_TEMPLATE_CLAIM_REJECTED", "SMS_CLAIM_REJECTED"),
    "claim_paid": os.environ.get("SMS_TEMPLATE_CLAIM_PAID", "SMS_CLAIM_PAID"),
    "rating_invited": os.environ.get("SMS_TEMPLATE_RATING_INVITED", "SMS_RATING_INVITED"),
    "follow_up_done": os.environ.get("SMS_TEMPLATE_FOLLOW_UP_DONE", "SMS_FOLLOW_UP_DONE"),
}
# Days a sent or failed SMS notice keeps its phone number (the record itself is kept).
SMS_PHONE_KEPT_DAYS = int(os.environ.get("SMS_PHONE_KEPT_DAYS", "90"))
SMS_DOCUMENT_REMINDER_DAYS = int(os.environ.get("SMS_DOCUMENT_REMINDER_DAYS", "2"))
SMS_ALIBABA_ENDPOINT = os.environ.get("SMS_ALIBABA_ENDPOINT", "https://dysmsapi.aliyuncs.com")
SMS_ALIBABA_REGION = os.environ.get("SMS_ALIBABA_REGION", "cn-hangzhou")
SMS_ALIBABA_ACCESS_KEY_ID = os.environ.get("SMS_ALIBABA_ACCESS_KEY_ID", "")
SMS_ALIBABA_ACCESS_KEY_SECRET = os.environ.get("SMS_ALIBABA_ACCESS_KEY_SECRET", "")
SMS_TENCENT_ENDPOINT = os.environ.get("SMS_TENCENT_ENDPOINT", "https://sms.tencentcloudapi.com")
SMS_TENCENT_REGION = os.environ.get("SMS_TENCENT_REGION", "ap-guangzhou")
SMS_TENCENT_APP_ID = os.environ.get("SMS_TENCENT_APP_ID", "")
SMS_TENCENT_SECRET_ID = os.environ.get("SMS_TENCENT_SECRET_ID", "")
SMS_TENCENT_SECRET_KEY = os.environ.get("SMS_TENCENT_SECRET_KEY", "")

# Backups (django-dbbackup): `manage.py dbbackup --encrypt` writes GnuPG-encrypted files for
# BACKUP_GPG_RECIPIENT (ideally a key fingerprint) into BACKUP_DIR. gpg finds its keyring
# through GNUPGHOME (default ~/.gnupg).
BACKUP_DIR = Path(os.environ.get("BACKUP_DIR", BASE_DIR / "backups"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "dbbackup": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": BACKUP_DIR,
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    },
}
DBBACKUP_GPG_RECIPIENT = os.environ.get("BACKUP_GPG_RECIPIENT") or None
# The recipient is named explicitly by the operator; gpg's web of trust would add nothing.
DBBACKUP_GPG_ALWAYS_TRUST = True
DBBACKUP_CONNECTOR_MAPPING = {"django.db.backends.sqlite3": "config.backup.SqliteBackupConnector"}
DBBACKUP_CLEANUP_KEEP = int(os.environ.get("BACKUP_KEEP", "30"))
