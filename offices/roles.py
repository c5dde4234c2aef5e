"""Who may do what: the bureau's four roles and the scheduled jobs' account, in one table.

Synced into auth groups of the same names after every `migrate` (`sync_role_groups`,
connected in `OfficesConfig.ready`): a group holds exactly what is listed here and what the
domain apps contribute (`register_role_grants`: the permission of each workflow step goes to
the roles its declaration names), so a grant is added or taken back by editing this file or
that declaration. Which office a user acts in is office membership (`offices.scoping`), not a
role. The README's role table is checked against this one (tests/test_roles.py).
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.utils import translation
from django.utils.translation import gettext_lazy as _

# What every role reads: the offices, the applicants and cases of its offices, their history.
READ_CASES = [
    "offices.view_office",
    "reissue.view_applicant",
    "reissue.view_reissuecase",
    "reissue.view_casepolicy",
    "audit.view_auditentry",
]
READ_CLAIMS = [
    "claims.view_expenseclaim",
    "claims.view_claimitem",
    "claims.view_reimbursementpolicy",
]
# (The permissions of the workflow steps are granted by the workflows' declarations.)
COUNTER_WORK = [
    "reissue.change_applicant",
    "reissue.add_reissuecase",
    "reissue.change_reissuecase",
    "reissue.view_cardbatch",  # the batches' counts; importing their return files
    "claims.add_expenseclaim",
    "claims.change_expenseclaim",
    "claims.add_claimitem",
    "claims.change_claimitem",
    "claims.delete_claimitem",
    "incidents.view_incident",
    "incidents.add_incident",
]
READ_REPORTS = ["reports.view_reports", "workdays.view_calendarday"]
# The citizens' ratings (好差评) of the offices' cases, their follow-ups and appeals.
READ_RATINGS = ["ratings.view_rating", "ratings.view_followup", "ratings.view_ratingappeal"]
# The SMS notices of the offices seen (reissue.admin_outbox): phones masked.
READ_SMS = ["notifications.view_outboxmessage"]
# Background work (jobs/): the scheduled jobs, their runs, the workers, the queue's tasks.
# Not office data (no personal data in a task's arguments or result): read by the auditor.
READ_BACKGROUND_WORK = [
    "jobs.view_scheduledjob",
    "jobs.view_jobrun",
    "jobs.view_workerheartbeat",
    "jobs.view_queuedtask",
]


# The role groups' names, as the workflows' declarations grant their steps to them.
CLERK, REVIEWER, SUPERVISOR, AUDITOR = "Clerk", "Reviewer", "Supervisor", "Auditor"
# The account the scheduled jobs act as (reissue.clocks): never logs in.
SYSTEM = "System"


@dataclass(frozen=True)
class Role:
    name: str  # the auth group's name
    label: str
    duty: str
    permissions: tuple[str, ...]


ROLES = [
    Role(
        CLERK,
        _("Clerk"),
        _(
            "Register cases, make a temporary loss report formal, edit open cases, issue and "
            "extend the temporary card, record the new ID card, make the new SS card at the "
            "counter or order it and record it produced and arrived, hand it over, lift a loss "
            "report when the card is found, close a case; record that the citizen now does or "
            "does not want SMS notices; enter and submit expense claims; "
            "print slips and decision notices; report incidents. Sees ID numbers masked; no "
            "export, import or reports."
        ),
        (*READ_CASES, *READ_CLAIMS, *COUNTER_WORK),
    ),
    Role(
        REVIEWER,
        _("Reviewer"),
        _(
            "Read the cases and claims of their offices; approve or reject claims someone "
            "else entered. No export, import or reports."
        ),
        (*READ_CASES, *READ_CLAIMS),
    ),
    Role(
        SUPERVISOR,
        _("Supervisor"),
        _(
            "All a clerk may, and cancel cases, pay approved claims, mark cases reimbursed, "
            "set the office's reimbursement policy and case rules; send card batches to the "
            "card bank (full ID numbers, logged); export cases, claims and the audit trail "
            "of their offices; import legacy files; open the dashboard; manage incidents; "
            "reveal full ID numbers (logged); record the follow-up of poor ratings and "
            "appeal a rating made in error; read the SMS notices of their offices and send a "
            "failed one again."
        ),
        (
            *READ_CASES,
            *READ_CLAIMS,
            *COUNTER_WORK,
            *READ_REPORTS,
            *READ_RATINGS,
            "ratings.record_follow_up",
            "ratings.appeal_rating",
            *READ_SMS,
            "notifications.send_again",
            "reissue.view_full_id_number",
            "reissue.export_cases",
            "reissue.import_cases",
            "reissue.view_cardbatch",
            "reissue.send_card_batch",
            "audit.export_audit_trail",
            "claims.export_claims",
            "claims.add_reimbursementpolicy",
            "claims.change_reimbursementpolicy",
            "reissue.add_casepolicy",
            "reissue.change_casepolicy",
            "incidents.change_incident",
            "incidents.view_all_incidents",
        ),
    ),
    Role(
        AUDITOR,
        _("Auditor"),
        _(
            "Read everything in every office, the audit trail, the access log and the "
            "incidents and the SMS notices included; export it; open the dashboard; reveal "
            "full ID numbers (logged); see the background work (scheduled jobs, their runs, "
            "the workers, the queue). Changes nothing, but decides the appeals of ratings."
        ),
        (
            *READ_CASES,
            *READ_CLAIMS,
            *READ_REPORTS,
            *READ_RATINGS,
            "ratings.decide_rating_appeal",
            *READ_SMS,
            *READ_BACKGROUND_WORK,
            "offices.view_all_offices",
            "reissue.view_full_id_number",
            "reissue.export_cases",
            "audit.view_personaldataaccess",
            "audit.export_audit_trail",
            "claims.export_claims",
            "incidents.view_incident",
            "incidents.view_all_incidents",
        ),
    ),
    Role(
        SYSTEM,
        _("System"),
        _(
            "The account the scheduled jobs act as; it cannot log in. Lapses temporary loss "
            "reports, cancels formally reported cards, marks temporary cards expired and "
            "flags overdue cases, each on time and in the audit trail."
        ),
        (*READ_CASES,),
    ),
]


# What the domain apps grant besides the table: source name -> a function returning
# {role name: permissions}, read at each sync. Filled in AppConfig.ready().
GrantSource = Callable[[], Mapping[str, Iterable[str]]]
_grant_sources: dict[str, GrantSource] = {}


def register_role_grants(name: str, source: GrantSource) -> None:
    """Add (or replace) the grants `source()` contributes to the roles (from ready())."""
    _grant_sources[name] = source


def role_named(name: str) -> Role:
    return next(role for role in ROLES if role.name == name)


def role_permissions(role: Role) -> set[str]:
    """Return every permission the role's group holds: its row and the contributed grants."""
    granted = set(role.permissions)
    for source in _grant_sources.values():
        granted.update(source().get(role.name, ()))
    return granted


def _check_grants_name_roles() -> None:
    known = {role.name for role in ROLES}
    for name, source in _grant_sources.items():
        unknown = set(source()) - known
        if unknown:
            raise LookupError(f"{name} grants to no such role {', '.join(sorted(unknown))}")


def roles_markdown() -> str:
    """Return the README's role table (tests/test_roles.py checks the README holds it)."""
    with translation.override("en"):
        rows = [f"| {role.name} | {role.duty} |" for role in ROLES]
    return "\n".join(["| group | may |", "|---|---|", *rows])


def sync_role_groups(*, apps=global_apps, using: str = "default") -> None:
    """Make each role's group hold exactly the role's permissions. Idempotent."""
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    by_name = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.using(using).values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    _check_grants_name_roles()
    for role in ROLES:
        permissions = sorted(role_permissions(role))
        missing = [name for name in permissions if name not in by_name]
        if missing:
            raise LookupError(f"Role {role.name}: no such permission {', '.join(missing)}")
        group, _created = Group.objects.using(using).get_or_create(name=role.name)
        group.permissions.set([by_name[name] for name in permissions])


def sync_after_migrate(sender, *, apps=global_apps, using="default", **kwargs) -> None:
    # post_migrate is sent once per app with models; sync once, after the last one's
    # permissions exist.
    last = [config for config in global_apps.get_app_configs() if config.models_module][-1]
    if sender is last:
        sync_role_groups(apps=apps, using=using)
