"""Every string the users read has a Simplified Chinese translation in locale/zh_Hans.

The project's sources are copied to a temporary directory with the catalogue, and Django's
`makemessages` (GNU gettext) refreshes the copy there, so this test never touches the real
catalogue. Any message that comes out untranslated or fuzzy is a screen showing English to a
Chinese clerk. To fix a failure: `make messages`, translate the new entries, `make messages`.
"""

import ast
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

CATALOGUE = Path("locale/zh_Hans/LC_MESSAGES/django.po")
# What gettext extracts from (makemessages' django domain); what no user reads is left out.
SOURCE_SUFFIXES = {".py", ".html", ".txt"}
NOT_USER_FACING = {".venv", "venv", "artifacts", "bench", "tests", "staticfiles", "backups"}


@dataclass
class PoEntry:
    strings: dict[str, str] = field(default_factory=dict)  # msgctxt, msgid, msgstr[0], ...
    flags: set[str] = field(default_factory=set)
    locations: list[str] = field(default_factory=list)
    obsolete: bool = False

    @property
    def untranslated(self) -> bool:
        translations = [text for key, text in self.strings.items() if key.startswith("msgstr")]
        return "fuzzy" in self.flags or not translations or not all(translations)

    def describe(self) -> str:
        context = self.strings.get("msgctxt")
        where = " ".join(self.locations[:3])
        return f"{self.strings['msgid']!r}" + (f" [{context}]" if context else "") + f"  {where}"


def parse_po(text: str) -> list[PoEntry]:
    """Return the entries of a PO file (enough of the format for makemessages' output)."""
    entries, current, key = [], None, ""
    for raw in [*text.splitlines(), ""]:
        line = raw.strip()
        if not line:
            if current is not None:
                entries.append(current)
            current = None
            continue
        current = current or PoEntry()
        if line.startswith("#~"):
            current.obsolete = True
        elif line.startswith("#,"):
            current.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#:"):
            current.locations.extend(line[2:].split())
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            current.strings[key] += ast.literal_eval(line)
        else:
            key, _, quoted = line.partition(" ")
            current.strings[key] = ast.literal_eval(quoted)
    return entries


def copy_sources(source_root: Path, destination: Path) -> None:
    """Copy the translatable sources and the catalogue of `source_root` to `destination`."""
    for directory, subdirectories, files in os.walk(source_root):
        subdirectories[:] = [
            name
            for name in subdirectories
            if not name.startswith(".") and name not in NOT_USER_FACING | {"locale"}
        ]
        for name in files:
            path = Path(directory, name)
            if path.suffix in SOURCE_SUFFIXES:
                target = destination / path.relative_to(source_root)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
    shutil.copytree(source_root / "locale", destination / "locale")


def untranslated_messages(source_root: Path, workdir: Path) -> list[str]:
    """Return the messages of `source_root` that its zh_Hans catalogue does not translate."""
    copy_sources(source_root, workdir)
    environment = {
        **os.environ,
        "PYTHONPATH": str(workdir),  # the copy's settings, so its locale/ is the one refreshed
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    command = [sys.executable, "-m", "django", "makemessages", "--locale", "zh_Hans"]
    result = subprocess.run(
        [*command, "--no-obsolete", "--verbosity", "0"],
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    entries = parse_po((workdir / CATALOGUE).read_text(encoding="utf-8"))
    return [
        entry.describe()
        for entry in entries
        if entry.strings.get("msgid") and not entry.obsolete and entry.untranslated
    ]


@pytest.mark.skipif(
    shutil.which("xgettext") is None or shutil.which("msgmerge") is None,
    reason="GNU gettext is missing: apt-get install gettext (.ci/run does)",
)
def test_every_user_facing_string_has_a_chinese_translation(tmp_path):
    source_root = Path(settings.BASE_DIR)
    catalogue_before = (source_root / CATALOGUE).read_bytes()

    missing = untranslated_messages(source_root, tmp_path / "project")

    assert (source_root / CATALOGUE).read_bytes() == catalogue_before, "catalogue was changed"
    if missing:
        pytest.fail(f"{len(missing)} messages lack a zh_Hans translation:\n" + "\n".join(missing))


def test_the_check_finds_a_new_untranslated_string_and_a_fuzzy_one():
    po = "\n".join(
        [
            'msgid ""',
            'msgstr ""',
            '"Content-Type: text/plain; charset=UTF-8\\n"',
            "",
            "#: reissue/admin.py:1",
            'msgid "reported"',
            'msgstr "已挂失"',
            "",
            "#: reissue/admin.py:2",
            'msgid "A new "',
            '"screen"',
            'msgstr ""',
            "",
            "#, fuzzy",
            'msgid "Pay now"',
            'msgstr "支付"',
            "",
            'msgid "%(count)s case"',
            'msgid_plural "%(count)s cases"',
            'msgstr[0] ""',
            "",
            '#~ msgid "gone"',
            '#~ msgstr ""',
        ]
    )
    entries = [e for e in parse_po(po) if e.strings.get("msgid") and not e.obsolete]
    assert [e.strings["msgid"] for e in entries if e.untranslated] == [
        "A new screen",
        "Pay now",
        "%(count)s case",
    ]
