"""Workflow steps in the admin, for any model with a django-fsm `state` field.

The change page shows the steps the user may take (and why a step is blocked); each step has
its own page with the step's inputs, and its POST goes through the model's service. Which
form and service a step has, and the state's badge, come from the model's declared workflow
(workflow.declaration). Django's FSMAdminMixin is not used: its POST path checks no
transition permission.
"""

import functools

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from audit.selectors import last_step_entry
from common.exceptions import Refusal

from .declaration import Workflow
from .registry import workflow_for
from .services import LOCKED
from .transitions import transition_by_name, transition_label, transition_named, transition_options


def add_service_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: by field where the form has the field.

    A form may name the model field its input sets (`service_fields`, e.g. the step's
    `card_number` sets `ss_card_number`), so the model's error lands on that input.
    """
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    aliases = getattr(form, "service_fields", {})
    for field, errors in error.error_dict.items():
        field = aliases.get(field, field)
        form.add_error(field if field in form.fields else None, errors)


def codes_of(error: ValidationError) -> set[str]:
    """Return the codes of every message a ValidationError holds."""
    parts = error.error_dict.values() if hasattr(error, "error_dict") else [error.error_list]
    return {item.code for errors in parts for item in errors}


def refusal_message(error: Exception) -> str | None:
    """Return what a clerk should read for a service's refusal, or None if it is no refusal.

    A bare PermissionDenied is the admin's own "403"; a service's carries a sentence.
    """
    if isinstance(error, Refusal):  # WorkflowError among them
        return error.message
    if isinstance(error, PermissionDenied):
        return " ".join(str(arg) for arg in error.args) or None
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return None


STEP_BUTTON = "_take_step"  # the name of the change form's step buttons (panel.html)


def _staff_name(entry) -> str:
    # As staff screens name each other: the full name, else the user name of the time.
    if entry.actor_id is None:
        return entry.actor_name
    return entry.actor.get_full_name() or entry.actor_name or entry.actor.get_username()


def stale_step_message(obj, name: str) -> str:
    """Return why the step `name` cannot be taken now: by whom and when it was, if it was."""
    entry = last_step_entry(obj=obj, name=name)
    state = obj.get_state_display()
    if entry is None:
        return _("In state “%(state)s” this step cannot be taken.") % {"state": state}
    at = timezone.localtime(entry.at)
    time = f"{at:%H:%M}" if at.date() == timezone.localdate() else f"{at:%Y-%m-%d %H:%M}"
    return _(
        "This step was already taken by %(who)s at %(time)s; the %(what)s is now “%(state)s”."
    ) % {
        "who": _staff_name(entry),
        "time": time,
        "what": obj._meta.verbose_name,
        "state": state,
    }


class ServiceRefusalAdminMixin:
    """Turn a service's refusal on a change page into a message on the page, never a 500.

    Two clerks at once: the forms of the loser passed, then its service found the case
    finished, the claim submitted, or the row taken. The admin's transaction is rolled back;
    the loser reads why, on the page it came from (or, once more rendered, beside the field).
    """

    def service_refused(self, request, error: Exception, *, back_url: str) -> HttpResponse:
        """Tell the user why the service refused and send them back to `back_url`."""
        messages.error(request, refusal_message(error))
        return HttpResponseRedirect(back_url)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The form's checks passed, then the save lost a race to another clerk (the same
        # person registered, the same receipt claimed a moment ago). Their row is committed
        # then, so a second pass shows it as a form error; should it not, say so.
        for second_pass in (False, True):
            try:
                return super().changeform_view(request, object_id, form_url, extra_context)
            except ValidationError as error:
                if request.method != "POST":
                    raise
                if LOCKED in codes_of(error):
                    return self._refused_as_locked(request, error)
                if second_pass:
                    return self.service_refused(request, error, back_url=request.get_full_path())
            except (Refusal, PermissionDenied) as error:
                if request.method != "POST" or refusal_message(error) is None:
                    raise
                return self.service_refused(request, error, back_url=request.get_full_path())

    def _refused_as_locked(self, request, error: ValidationError) -> HttpResponseRedirect:
        # A step taken meanwhile locked a field this page changed: once more rendered, the
        # field would be read-only and the change dropped without a word.
        messages.error(
            request,
            _("Nothing on this page was saved. %(reason)s") % {"reason": refusal_message(error)},
        )
        return HttpResponseRedirect(request.get_full_path())


@functools.lru_cache(maxsize=256)
def _state_badge(model: type, state: str, language: str) -> SafeString:
    """A state's badge in a language: drawn once, for every row of every list showing it."""
    workflow = workflow_for(model)
    badge = workflow.state(state).badge
    label = workflow.state_label(state)  # (the active language: `language`)
    return SafeString(
        f'<span class="state-badge {escape(badge.css_class)}" data-state="{escape(state)}">'
        f"{escape(label)}</span>"
    )


class WorkflowAdminMixin(ServiceRefusalAdminMixin):
    step_template = "admin/workflow/step_form.html"

    @property
    def workflow(self) -> Workflow:
        return workflow_for(self.model)

    @admin.display(description=gettext_lazy("state"), ordering="state")
    def state_badge(self, obj):
        """Return the object's state as a badge, in its declared colour of the palette."""
        return _state_badge(self.model, obj.state, get_language())

    def _step_url_name(self) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_step"

    def get_urls(self):
        view = self.admin_site.admin_view(self.step_view)
        return [
            path("<path:object_id>/step/<str:name>/", view, name=self._step_url_name()),
            *super().get_urls(),
        ]

    def step_links(self, request, obj) -> list[tuple]:
        """Return (option, url) for each step the user is permitted to take from here."""
        return [
            (option, reverse(f"admin:{self._step_url_name()}", args=[obj.pk, option.name]))
            for option in transition_options(obj, request.user)
        ]

    def response_post_save_add(self, request, obj):
        # At the counter the next thing after registering is on the new object's own page
        # (print the slip, take the next step), not on the list.
        if self.has_view_or_change_permission(request, obj):
            return HttpResponseRedirect(
                reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
            )
        return super().response_post_save_add(request, obj)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["step_links"] = self.step_links(request, obj)
            context["state_badge"] = self.state_badge(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def log_change(self, request, obj, message):
        request._workflow_changes_saved = bool(message)  # read by response_change
        return super().log_change(request, obj, message)

    def response_change(self, request, obj):
        # A step button of the change form (panel.html): the page's edits were saved first,
        # through the usual save and its services; only then the step's own page opens.
        name = request.POST.get(STEP_BUTTON)
        if not self.workflow.has_step(name):
            return super().response_change(request, obj)
        if getattr(request, "_workflow_changes_saved", False):
            messages.success(request, _("Your changes were saved."))
        return HttpResponseRedirect(reverse(f"admin:{self._step_url_name()}", args=[obj.pk, name]))

    def step_view(self, request, object_id, name):
        """Show the inputs of one workflow step and, on POST, take it through the service."""
        obj = self.get_object(request, object_id)
        if obj is None or not self.workflow.has_step(name):
            raise Http404(_("Not found."))
        step = transition_named(obj, name) or transition_by_name(type(obj), name)
        if step is None:
            raise Http404(_("Not found."))
        if not step.has_perm(obj, request.user):
            raise PermissionDenied(
                _("You may not take the step “%(step)s”.") % {"step": transition_label(step)}
            )
        change_url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk]
        )
        if transition_named(obj, name) is None:
            # Taken meanwhile (the back button, a second tab, two supervisors at once), or
            # never possible from here: say which, on the page it belongs to. Nothing changes.
            messages.warning(request, stale_step_message(obj, name))
            return HttpResponseRedirect(change_url)
        form = self.workflow.form(name)(request.POST or None, instance=obj)
        if request.method == "POST" and form.is_valid():
            try:
                self.workflow.service(name)(
                    **{self.workflow.service_argument: obj},
                    acting_user=request.user,
                    expected_state=request.POST.get("expected_state") or None,
                    **form.step_arguments(),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            except (Refusal, PermissionDenied) as error:
                if refusal_message(error) is None:
                    raise
                return self.service_refused(request, error, back_url=change_url)
            else:
                messages.success(request, _("Done: %(step)s.") % {"step": transition_label(step)})
                return HttpResponseRedirect(change_url)
        option = next(o for o in transition_options(obj, request.user) if o.name == name)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "form": form,
            "option": option,
            "change_url": change_url,
            "title": option.label,
        }
        return TemplateResponse(request, self.step_template, context)
