"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

The browser is Debian's /usr/bin/chromium (`.ci/run` installs it); Playwright never downloads
one. Screenshots of the main steps go to artifacts/screenshots/, which git ignores.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.utils import translation
from django.utils.text import capfirst
from django_otp.oath import totp

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"
# No internet here: without these flags Chromium keeps calling home and logs refused connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The browser's locale (sent as Accept-Language) and the Django language it should select.
BROWSER_LOCALES = {"en": "en-US", "zh-hans": "zh-CN"}


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; Django then refuses
    # ORM calls here (SynchronousOnlyOperation) unless told they are safe, which they are:
    # nothing else runs in this thread. Only while the browser is up.
    serialized = {
        db.alias: db._test_serialized_contents
        for db in connections.all()
        if hasattr(db, "_test_serialized_contents")
    }
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            # With a loop running, Django keys connections by async context, so the ORM here
            # gets new connection objects: hand them the initial rows (the role groups) that
            # serialized_rollback puts back after each test's flush.
            for alias, contents in serialized.items():
                connections[alias]._test_serialized_contents = contents
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()
            connections.close_all()  # else PostgreSQL cannot drop the test database at the end


class Counter:
    """One user's browser window, in one language, with the texts it should show."""

    def __init__(self, browser, base_url: str, language: str, screenshot_prefix: str) -> None:
        self.language = language
        self.context = browser.new_context(
            base_url=base_url, locale=BROWSER_LOCALES[language], accept_downloads=True
        )
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.screenshot_prefix = screenshot_prefix

    def text(self, message: str) -> str:
        """Return `message` as the server says it in this window's language."""
        with translation.override(self.language):
            return str(translation.gettext(message))

    def label(self, message: str) -> re.Pattern:
        """Return a pattern of a form label: the capitalised text and an optional colon."""
        return re.compile(rf"^\s*{re.escape(capfirst(self.text(message)))}\s*[:：]?\s*$")

    def field(self, message: str):
        return self.page.get_by_label(self.label(message))

    def log_in(self, username: str, password: str = "pw", authenticator=None) -> None:
        """Log in with the password and, given the user's TOTP device, the one-time code."""
        self.page.goto("/admin/login/?next=/admin/")
        self.field("username").fill(username)
        self.field("password").fill(password)
        self.page.get_by_role("button", name=self.text("Log in")).click()
        self.page.wait_for_url(lambda url: "/login/" not in url)
        if authenticator is not None:
            self.page.wait_for_url(lambda url: "/two-factor/code/" in url)
            self.give_code(authenticator.bin_key)
            self.page.wait_for_url(lambda url: "/two-factor/" not in url)

    def give_code(self, key: bytes, button: str = "Continue") -> None:
        """Type the code an authenticator app with this secret shows now, as the user does."""
        self.field("Code").fill(f"{totp(key):06d}")
        self.page.get_by_role("button", name=self.text(button)).click()

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.screenshot_prefix}-{name}.png"
        self.page.screenshot(path=path, full_page=True)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def open_counter(browser, live_server):
    """Open a browser window for a user: open_counter("zh-hans", "clerk") -> Counter."""
    opened = []

    def open_(language: str, who: str) -> Counter:
        counter = Counter(browser, live_server.url, language, f"{language}-{who}")
        opened.append(counter)
        return counter

    yield open_
    for counter in opened:
        counter.close()
