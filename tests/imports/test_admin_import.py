"""The import button and pages of the case list, through the test client."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from reissue.models import Applicant, CaseState, ReissueCase

from .conftest import file_bytes, xlsx_bytes

CHANGELIST = reverse("admin:reissue_reissuecase_changelist")
IMPORT = reverse("admin:reissue_reissuecase_import")
PROCESS = reverse("admin:reissue_reissuecase_process_import")
FORMATS = {"csv": "0", "xlsx": "1"}


def upload(client, name: str, data: bytes | None = None, fmt: str = "csv"):
    """Post a file to the import page: import-export's dry run and preview."""
    content = file_bytes(name) if data is None else data
    return client.post(
        IMPORT,
        {
            "resource": "0",
            "format": FORMATS[fmt],
            "import_file": SimpleUploadedFile(name, content),
        },
    )


def confirm(client, preview):
    return client.post(PROCESS, preview.context["confirm_form"].initial)


def test_supervisor_sees_the_import_button(client, supervisor):
    client.force_login(supervisor)
    assert IMPORT in client.get(CHANGELIST).content.decode()
    page = client.get(IMPORT).content.decode()
    assert "hukou_police_station" in page and "loss_date" in page  # the columns to give


def test_clerk_sees_no_import_button_and_is_refused_the_pages(client, clerk):
    client.force_login(clerk)
    assert IMPORT not in client.get(CHANGELIST).content.decode()
    assert client.get(IMPORT).status_code == 403
    assert upload(client, "utf8.csv").status_code == 403
    assert client.post(PROCESS, {"import_file_name": "x", "format": "0"}).status_code == 403
    assert not ReissueCase.objects.exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bad_check_character.csv", "The check character of this ID number is wrong"),
        ("unknown_office.csv", "No office has the code “ZZ”."),
        ("future_date.csv", "The date of loss cannot be in the future."),
        ("missing_column.csv", "The column “loss_date” is missing from the file."),
        ("state_column.csv", "Imported cases start at “reported”"),
    ],
)
def test_preview_lists_the_bad_row_and_why_and_offers_no_confirmation(
    client, supervisor, name, message
):
    client.force_login(supervisor)
    response = upload(client, name)
    page = response.content.decode()
    assert "Some rows cannot be imported" in page
    assert message in page
    assert "confirm_form" not in response.context or not response.context["confirm_form"]
    assert not Applicant.objects.exists()


def test_preview_masks_id_numbers_and_confirmation_imports_at_reported(client, supervisor):
    client.force_login(supervisor)
    preview = upload(client, "utf8.csv")
    page = preview.content.decode()
    assert "张伟" in page and "110101***********3" in page
    assert "110101198005171233" not in page
    assert not ReissueCase.objects.exists()  # the preview is a dry run
    response = confirm(client, preview)
    assert response.status_code == 302 and response.url == CHANGELIST
    assert list(ReissueCase.objects.values_list("state", flat=True)) == [CaseState.REPORTED] * 2


def test_gbk_file_reads_with_its_chinese_names(client, supervisor):
    client.force_login(supervisor)
    confirm(client, upload(client, "gbk.csv"))
    assert Applicant.objects.get().name == "欧阳娜娜"


def test_xlsx_file_imports(client, supervisor):
    client.force_login(supervisor)
    data = xlsx_bytes(
        [
            [
                "office",
                "name",
                "id_number",
                "phone",
                "hukou_address",
                "hukou_police_station",
                "lost_items",
                "loss_kind",
                "loss_date",
            ],
            [
                "DC",
                "赵敏",
                "440305200107090883",
                "13700001111",
                "深圳市南山区1号",
                "南山派出所",
                "id_card",
                "lost",
                "2024-05-06",
            ],
        ]
    )
    confirm(client, upload(client, "legacy.xlsx", data, fmt="xlsx"))
    assert ReissueCase.objects.get().applicant.name == "赵敏"


@pytest.mark.parametrize("name", ["latin1.csv", "binary.csv"])
def test_unreadable_encoding_gets_a_clear_error_on_the_form(client, supervisor, name):
    client.force_login(supervisor)
    page = upload(client, name).content.decode()
    assert "neither UTF-8 nor GBK/GB18030" in page


def test_confirmation_after_the_cases_changed_imports_nothing(client, supervisor, clerk, office):
    from tests.factories import ApplicantFactory, register_case

    client.force_login(supervisor)
    preview = upload(client, "utf8.csv")
    register_case(
        clerk=clerk,
        office=office,
        applicant=ApplicantFactory.build(name="张伟", id_number="110101198005171233"),
    )
    response = confirm(client, preview)
    assert response.status_code == 302 and response.url == IMPORT
    assert ReissueCase.objects.count() == 1


def test_the_import_page_speaks_chinese_names_columns_by_label_and_writes_problems_out(
    client, supervisor, office
):
    client.force_login(supervisor)
    page = client.get(IMPORT, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "居民身份证号码（id_number）" in page and "某些行验数据证失败" not in page
    good = file_bytes("utf8.csv").decode("utf-8")
    header, row = good.splitlines()[:2]
    bad = "\n".join([header, row.replace(",lost,", ",丢了,")]) + "\n"
    response = client.post(
        IMPORT,
        {
            "resource": "0",
            "format": FORMATS["csv"],
            "import_file": SimpleUploadedFile("bad.csv", bad.encode()),
        },
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    page = response.content.decode()
    assert "部分行无法导入" in page and 'id="import-problems"' in page
    # The problem is written out beside the column's label, and the choices are labels.
    assert "遗失方式（loss_kind）" in page
    assert "“丢了”不是以下值之一：遗失、被盗、损坏。" in page
    assert "lost, stolen, damaged" not in page and "validation-error-count" not in page


def test_preview_of_another_offices_applicant_tells_neither_its_open_case_nor_its_name(
    client, supervisor, other_clerk, other_office
):
    # As at the counter: a number registered in another office gets one neutral answer.
    from tests.factories import ApplicantFactory, register_case

    register_case(
        clerk=other_clerk,
        office=other_office,
        applicant=ApplicantFactory.build(name="张大伟", id_number="110101198005171233"),
    )
    client.force_login(supervisor)
    page = upload(client, "open_case_exists.csv").content.decode()
    assert "This ID number cannot be registered here. Ask your supervisor" in page
    assert "already has an open case" not in page and "under another name" not in page
    assert ReissueCase.objects.count() == 1
