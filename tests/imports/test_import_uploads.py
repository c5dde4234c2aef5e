"""Where the admin's import keeps an upload between preview and confirmation: encrypted in the
database, for its uploader alone, and only as long as a confirmation can come."""

import datetime
import tempfile

import pytest
from django.db import connection
from django.utils import timezone

from reissue.admin_imports import ImportUploadStorage
from reissue.models import ImportUpload, ReissueCase

from .conftest import file_bytes
from .test_admin_import import IMPORT, PROCESS, confirm, upload

ZHANG_WEI = "110101198005171233"


@pytest.fixture
def temp_dir(tmp_path, monkeypatch):
    """The folder `tempfile.gettempdir()` names during the test: empty, ours alone."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def files_holding(folder, text: str) -> list[str]:
    return [
        path.name
        for path in folder.rglob("*")
        if path.is_file() and text.encode() in path.read_bytes()
    ]


def stored_upload_texts() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT content FROM {ImportUpload._meta.db_table}")
        return [content for (content,) in cursor.fetchall()]


def test_preview_keeps_the_file_encrypted_in_the_database_and_not_on_disk(
    client, supervisor, temp_dir
):
    client.force_login(supervisor)
    preview = upload(client, "utf8.csv")
    assert preview.context["confirm_form"]
    assert files_holding(temp_dir, ZHANG_WEI) == []
    stored = stored_upload_texts()
    assert len(stored) == 1
    assert ZHANG_WEI not in stored[0] and "张伟" not in stored[0]
    response = confirm(client, preview)
    assert response.status_code == 302
    assert ReissueCase.objects.count() == 2
    assert not ImportUpload.objects.exists()  # imported: the file is gone


@pytest.mark.parametrize("name", ["bad_check_character.csv", "latin1.csv", "binary.csv"])
def test_refused_file_is_kept_nowhere(client, supervisor, temp_dir, name):
    client.force_login(supervisor)
    preview = upload(client, name)
    assert not preview.context.get("confirm_form")
    assert not ImportUpload.objects.exists()
    assert list(temp_dir.iterdir()) == []


def test_only_the_uploader_can_confirm_the_upload(client, supervisor, office):
    from tests.factories import UserFactory

    colleague = UserFactory(username="colleague", role="Supervisor", offices=[office])
    client.force_login(supervisor)
    preview = upload(client, "utf8.csv")
    client.force_login(colleague)
    response = confirm(client, preview)
    assert response.status_code == 302 and response.url == IMPORT
    assert not ReissueCase.objects.exists()
    client.force_login(supervisor)
    confirm(client, preview)
    assert ReissueCase.objects.count() == 2
    # Confirming twice imports once.
    assert confirm(client, preview).url == IMPORT
    assert ReissueCase.objects.count() == 2


def test_made_up_upload_name_is_refused(client, supervisor):
    client.force_login(supervisor)
    response = client.post(PROCESS, {"import_file_name": "../../etc/passwd", "format": "0"})
    assert response.status_code == 302 and response.url == IMPORT


def test_upload_never_confirmed_is_dropped_when_a_day_old(client, supervisor):
    abandoned = ImportUploadStorage(owner=supervisor)
    abandoned.save(file_bytes("utf8.csv"))
    recent = ImportUploadStorage(owner=supervisor)
    recent.save(file_bytes("utf8.csv"))
    now = timezone.now()
    then = now - datetime.timedelta(days=1, minutes=1)
    ImportUpload.objects.filter(name=abandoned.name).update(created_at=then, updated_at=then)
    then = now - datetime.timedelta(hours=23)
    ImportUpload.objects.filter(name=recent.name).update(created_at=then, updated_at=then)
    client.force_login(supervisor)
    upload(client, "utf8.csv")
    assert not abandoned.exists()
    assert recent.exists()
    assert ImportUpload.objects.count() == 2


def test_storage_gives_back_the_bytes_or_the_text_it_was_given(supervisor):
    data = file_bytes("utf8.csv")
    storage = ImportUploadStorage(owner=supervisor)
    storage.save(data)
    as_bytes = ImportUploadStorage(owner=supervisor, name=storage.name, read_mode="rb")
    as_text = ImportUploadStorage(owner=supervisor, name=storage.name, encoding="utf-8")
    assert as_bytes.read() == data
    assert as_text.read() == data.decode("utf-8")
