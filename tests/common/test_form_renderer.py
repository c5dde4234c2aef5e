"""The form renderer draws inputs, labels and error lists exactly as Django's templates do."""

import pytest
from django import forms
from django.contrib.admin import widgets as admin_widgets
from django.forms.renderers import DjangoTemplates
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from hypothesis import given, settings
from hypothesis import strategies as st

from common.form_renderer import DrawingRenderer
from reissue.forms import CaseRegistrationForm

DJANGO = DjangoTemplates()
OURS = DrawingRenderer()

INPUTS = [
    forms.TextInput,
    forms.NumberInput,
    forms.EmailInput,
    forms.URLInput,
    forms.PasswordInput,
    forms.HiddenInput,
    forms.SearchInput,
    forms.TelInput,
    forms.ColorInput,
    forms.DateInput,
    forms.DateTimeInput,
    forms.TimeInput,
    forms.CheckboxInput,
    admin_widgets.AdminTextInputWidget,
    admin_widgets.AdminDateWidget,
    admin_widgets.AdminIntegerFieldWidget,
]


class _HtmlLike:
    """Not marked safe, yet with __html__ (as markupsafe's Markup, a form's BoundField): an
    attribute's value drawn by `stringformat` is escaped all the same."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __html__(self) -> str:
        return self.text


# Values a widget shows, with what escaping must catch: markup, quotes, ampersands, text
# marked safe or only HTML-like, full-width punctuation, numbers, callables (the template
# engine calls them), nothing at all.
values = st.one_of(
    st.builds(_HtmlLike, st.sampled_from(["<b>", "a&b"])),
    st.none(),
    st.just(""),
    st.text(alphabet=st.sampled_from("a<>&\"' 张，。：\n")),
    st.builds(mark_safe, st.sampled_from(["<b>粗</b>", "a&amp;b"])),
    st.integers(),
    st.booleans(),
)
attr_values = st.one_of(
    st.booleans(),
    st.builds(_HtmlLike, st.just("<i>")),
    st.just(lambda: "<called>"),
    st.text(alphabet=st.sampled_from("a<>&\"' 号")),
    st.just(gettext_lazy("ID number")),
    st.integers(),
)
attrs = st.dictionaries(
    st.sampled_from(["id", "class", "placeholder", "required", "disabled", "aria-describedby"]),
    attr_values,
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(widget=st.sampled_from(INPUTS), value=values, attrs=attrs)
def test_every_input_is_drawn_as_django_draws_it(widget, value, attrs):
    drawn = {
        renderer: widget().render("name", value, attrs=attrs, renderer=renderer)
        for renderer in (DJANGO, OURS)
    }
    assert drawn[OURS] == drawn[DJANGO]


labels = st.one_of(
    st.text(alphabet=st.sampled_from("a<>&\"' 男女，")),
    st.just(gettext_lazy("ID number")),
    st.builds(mark_safe, st.just("<b>粗</b>")),
    st.integers(min_value=999, max_value=10**6),  # drawn by Django's (formatted)
)
option_values = st.one_of(
    st.text(alphabet="ab<&1", max_size=3), st.builds(_HtmlLike, st.just("<v>"))
)
options = st.lists(st.tuples(option_values, labels), max_size=4)
choices = st.lists(
    st.one_of(options.map(lambda group: ("组<" + str(len(group)) + ">", group)), labels.flatmap(
        lambda label: st.tuples(st.text(alphabet="xy\"", max_size=2), st.just(label)))),
    max_size=4,
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    widget=st.sampled_from([forms.Select, forms.SelectMultiple, admin_widgets.AdminRadioSelect]),
    choices=choices,
    value=st.one_of(st.none(), st.just(""), st.text(alphabet="ab<&1xy", max_size=3),
                    st.lists(st.text(alphabet="ab1", max_size=2), max_size=2)),
    attrs=attrs,
)  # fmt: skip
def test_every_select_is_drawn_as_django_draws_it(widget, choices, value, attrs):
    drawn = {
        renderer: widget(choices=choices).render("name", value, attrs=attrs, renderer=renderer)
        for renderer in (DJANGO, OURS)
    }
    assert drawn[OURS] == drawn[DJANGO]


def test_a_select_of_null_boolean_and_of_models_is_drawn_as_django_draws_it(db, office):
    from offices.models import Office

    for widget, value in (
        (forms.NullBooleanSelect(), True),
        (forms.ModelChoiceField(Office.objects.all()).widget, office.pk),
    ):
        drawn = {r: widget.render("name", value, renderer=r) for r in (DJANGO, OURS)}
        assert "<option" in drawn[OURS]
        assert drawn[OURS] == drawn[DJANGO]


@pytest.mark.parametrize("error_class", ["errorlist", "errorlist nonfield"])
@pytest.mark.parametrize(
    "errors", [[], ["必须填写。"], ["<b>bad</b> & worse", mark_safe("<i>safe</i>")]]
)
@pytest.mark.parametrize("field_id", [None, "id_phone"])
def test_every_list_of_errors_is_drawn_as_django_draws_it(errors, error_class, field_id):
    listed = forms.utils.ErrorList(errors, error_class=error_class, field_id=field_id)
    assert (
        listed.as_ul()
        == forms.utils.ErrorList(
            errors, error_class=error_class, field_id=field_id, renderer=DJANGO
        ).as_ul()
    )
    assert isinstance(listed.renderer, DrawingRenderer)  # the setting's


class _Labelled(forms.Form):
    required_css_class = "needed"

    name = forms.CharField(label="姓名 <全称>")
    agreed = forms.BooleanField(label="已核对？", required=False)
    note = forms.CharField(label=mark_safe("<i>备注</i>"), required=False, label_suffix="：")
    hidden = forms.CharField(widget=forms.HiddenInput, required=False)


@pytest.mark.parametrize("auto_id", ["id_%s", False])
@pytest.mark.parametrize("data", [None, {"name": "", "agreed": "on"}])
def test_whole_forms_are_drawn_as_django_draws_them(auto_id, data):
    # (A form's fields draw their errors by `{{ field.errors }}`: errors/list/default.html.)
    drawn = {}
    for renderer in (DJANGO, OURS):
        form = _Labelled(data, auto_id=auto_id, renderer=renderer)
        form.is_valid()
        labels = [form[name].label_tag(attrs={"class": "x"}, tag=tag) for name in form.fields
                  for tag in (None, "span")]  # fmt: skip
        drawn[renderer] = (form.as_div(), form.as_p(), form.as_table(), labels)
    assert drawn[OURS] == drawn[DJANGO]


def test_the_counter_form_refused_is_drawn_as_django_draws_it(db, clerk):
    data = {"name": "张<三>", "id_number": "110101", "phone": "1380013800"}
    drawn = {}
    for renderer in (DJANGO, OURS):
        form = CaseRegistrationForm(data, renderer=renderer)
        form.acting_user = clerk
        assert not form.is_valid()
        drawn[renderer] = form.as_div()
    assert drawn[OURS] == drawn[DJANGO]


def test_the_site_uses_it(client, clerk):
    client.force_login(clerk)
    response = client.get(reverse("admin:reissue_reissuecase_add"))
    assert isinstance(response.context["adminform"].form.renderer, DrawingRenderer)
