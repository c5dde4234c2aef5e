"""`check --deploy`: the keys in use must be fit for production (config/key_checks.py), and
the public pages' address must be the real one."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, register

from .key_checks import fernet_key_problem, secret_problem, shared_keys

SECRETS = {"SECRET_KEY": 50, "ID_NUMBER_HASH_KEY": 32, "AUDIT_CHAIN_KEY": 32}


@register(Tags.security, deploy=True)
def check_keys(app_configs, **kwargs) -> list[Error]:
    """Report public, repetitive, short or shared keys, naming the variable only."""
    errors = []
    for name, min_length in SECRETS.items():
        value = getattr(settings, name, "")
        if not value:
            errors.append(Error(f"{name} is not set.", id="reissue.E101"))  # dev: AUDIT_CHAIN_KEY
        elif problem := secret_problem(value, min_length):
            errors.append(Error(f"{name} {problem}.", id="reissue.E102"))
    for number, key in enumerate(getattr(settings, "FIELD_ENCRYPTION_KEYS", []), start=1):
        if problem := fernet_key_problem(key):
            message = f"FIELD_ENCRYPTION_KEYS (key {number}) {problem}."
            errors.append(Error(message, id="reissue.E103"))
    in_use = {name: [getattr(settings, name, "")] for name in SECRETS}
    in_use = {name: keys for name, keys in in_use.items() if keys[0]}
    in_use["FIELD_ENCRYPTION_KEYS"] = list(getattr(settings, "FIELD_ENCRYPTION_KEYS", []))
    errors += [
        Error(f"{first} and {second} hold the same key; give each its own.", id="reissue.E104")
        for first, second in shared_keys(in_use)
    ]
    return errors


LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


@register(Tags.security, deploy=True)
def check_public_site_url(app_configs, **kwargs) -> list[Error]:
    """Report a PUBLIC_SITE_URL left at its default or not https: the rating links of the SMS
    and the receipts' QR codes are made from it."""
    url = urlsplit(getattr(settings, "PUBLIC_SITE_URL", "") or "")
    if url.scheme != "https" or not url.hostname or url.hostname in LOCAL_HOSTS:
        message = "PUBLIC_SITE_URL must be the https address the public pages are reached at"
        return [Error(f"{message} (it is {url.geturl() or 'not set'}).", id="reissue.E105")]
    return []
