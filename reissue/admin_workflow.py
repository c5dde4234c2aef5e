"""Workflow steps in the admin, for any model with a django-fsm `state` field.

The change page shows the steps the user may take (and why a step is blocked); each step has
its own page with the step's inputs, and its POST goes through the model's service. Django's
FSMAdminMixin is not used: its POST path checks no transition permission.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from .services import WorkflowError
from .workflow import transition_label, transition_named, transition_options


def add_service_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: by field where the form has the field."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class WorkflowAdminMixin:
    step_forms: dict = {}  # transition name -> form class (takes `instance=` in __init__)
    step_services: dict = {}  # transition name -> service(instance kw, acting_user, ...)
    step_instance_argument = "case"  # the keyword under which services take the object
    step_template = "admin/workflow/step_form.html"

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
        return super().render_change_form(request, context, add, change, form_url, obj)

    def step_view(self, request, object_id, name):
        """Show the inputs of one workflow step and, on POST, take it through the service."""
        obj = self.get_object(request, object_id)
        if obj is None or name not in self.step_forms:
            raise Http404(_("Not found."))
        step = transition_named(obj, name)
        if step is None or not step.has_perm(obj, request.user):
            raise PermissionDenied
        change_url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk]
        )
        form = self.step_forms[name](request.POST or None, instance=obj)
        if request.method == "POST" and form.is_valid():
            try:
                self.step_services[name](
                    **{self.step_instance_argument: obj},
                    acting_user=request.user,
                    expected_state=request.POST.get("expected_state") or None,
                    **form.step_arguments(),
                )
            except WorkflowError as error:
                messages.error(request, error.message)
                return HttpResponseRedirect(change_url)
            except ValidationError as error:
                add_service_errors(form, error)
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
