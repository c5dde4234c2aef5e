"""The exports extend django-import-export through its public hooks only: a private method of
the library (`_do_file_export`, `_get_field_label`, ...) may change in any release."""

import inspect

import pytest
from django.contrib import admin
from import_export.admin import ExportMixin

from claims.resources import ExpenseClaimResource
from reissue.admin import PersonalDataAccessResource
from reissue.admin_exports import EXPORT_FORMATS
from reissue.resources import AuditEntryResource, CaseResource


def library_private_overrides(cls: type) -> list[str]:
    """Return `Class.name` for each private method of import-export that `cls` overrides."""
    library = [c for c in cls.__mro__ if c.__module__.startswith("import_export.")]
    ours = [c for c in cls.__mro__ if not c.__module__.startswith(("import_export.", "django."))]
    return [
        f"{c.__qualname__}.{name}"
        for c in ours
        for name, value in vars(c).items()
        if name.startswith("_") and not name.startswith("__") and is_method(value)
        if any(name in vars(base) for base in library)
    ]


def is_method(value) -> bool:
    return inspect.isfunction(value) or isinstance(value, classmethod | staticmethod | property)


def export_classes() -> list[type]:
    admins = [type(a) for a in admin.site._registry.values() if isinstance(a, ExportMixin)]
    forms = list(dict.fromkeys(a.export_form_class for a in admins))
    resources = [CaseResource, AuditEntryResource, ExpenseClaimResource, PersonalDataAccessResource]
    return [*admins, *forms, *resources, *EXPORT_FORMATS]


@pytest.mark.parametrize("cls", export_classes(), ids=lambda cls: cls.__qualname__)
def test_no_private_method_of_import_export_is_overridden(cls):
    assert library_private_overrides(cls) == []
