"""Search a list by a whole ID number without the number in any URL, within a budget.

The search box of these lists is a POST form (templates/admin/reissue/id_number_search_form.html).
A whole ID number typed in it is counted and logged (`services.id_number_search_record`),
kept in the session under a short random token, by its keyed hash only, for ten minutes, and
the list opens at `?qt=<token>`; any other term opens at `?q=<term>` as before. So the number
stays out of the browser's history on a shared counter computer and out of the server logs,
and a number typed into a URL by hand (`?q=`) is not searched at all.
"""

import re
import secrets
import time
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.admin.views.main import ORDER_VAR, SEARCH_VAR
from django.core.exceptions import PermissionDenied
from django.db.models import F, OrderBy, QuerySet
from django.db.models.functions import Coalesce
from django.http import HttpResponseNotAllowed, HttpResponseRedirect, QueryDict
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect

from common.changelists import LinkedOnceChangeList
from common.id_numbers import (
    compact_id_number,
    id_number_digest,
    looks_like_id_number,
    mask_id_number,
)
from offices.scoping import office_ids_visible_to
from reissue import selectors, services

TOKEN_VAR = "qt"
SESSION_KEY = "reissue_id_number_searches"
TOKEN_LIFETIME = 600  # seconds
ID_DIGITS = re.compile(r"[0-9]{8}")
MAX_TERM_LENGTH = 100  # longer than any name, reference or number
NOT_SEARCHED = {"csrfmiddlewaretoken", SEARCH_VAR, TOKEN_VAR}
REFERENCE_START = re.compile(r"^[A-Za-z0-9]{2,8}-")


def holds_id_digits(term: str) -> bool:
    """Return whether `term` holds 8 digits in a row: a number, or much of one (the region and
    a birth date), that must not go into a URL. A reference has at most 6 (DC-2026-000042)."""
    return ID_DIGITS.search(compact_id_number(term)) is not None


@dataclass(frozen=True)
class SearchedNumber:
    digest: str
    masked: str


def remember_search(session, id_number: str) -> str:
    """Keep the number's hash and masked form in the session; return the token naming them."""
    now = time.time()
    searches = {k: v for k, v in session.get(SESSION_KEY, {}).items() if v[2] > now}
    token = secrets.token_urlsafe(12)
    searches[token] = [id_number_digest(id_number), mask_id_number(id_number), now + TOKEN_LIFETIME]
    session[SESSION_KEY] = searches
    return token


def searched_number(request) -> SearchedNumber | None:
    """Return the search the request's token names, or None (no token, unknown, expired)."""
    token = request.GET.get(TOKEN_VAR)
    kept = request.session.get(SESSION_KEY, {}).get(token) if token else None
    if kept is None or kept[2] <= time.time():
        return None
    return SearchedNumber(digest=kept[0], masked=kept[1])


def search_state(request) -> dict:
    """Return what the request's search by ID number keeps in the session (its token, the
    number's keyed hash and masked form, never the number), for a list rebuilt elsewhere; {}
    without such a search."""
    token = request.GET.get(TOKEN_VAR)
    searched = searched_number(request)
    if not token or searched is None:
        return {}
    return {"token": token, "digest": searched.digest, "masked": searched.masked}


def session_of(state: dict) -> dict:
    """Return a session holding the search `state` (search_state's), valid for a while."""
    if not state:
        return {}
    kept = [state["digest"], state["masked"], time.time() + TOKEN_LIFETIME]
    return {SESSION_KEY: {state["token"]: kept}}


def searched_params(request) -> QueryDict:
    """Return the list's parameters with a search token replaced by the number, masked."""
    params = request.GET.copy()
    if TOKEN_VAR in params:
        searched = searched_number(request)
        del params[TOKEN_VAR]
        params[SEARCH_VAR] = searched.masked if searched is not None else ""
    return params


class MatchesSortedChangeList(LinkedOnceChangeList):
    """A change list whose search (few_by_id) may ask for its matches to be read and sorted,
    not met walking the list's order (SORT_THE_MATCHES); its rows' links made once a page."""

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        # The search (few_by_id) ran after the list's ordering was set.
        ordering = queryset.query.order_by
        sort = getattr(request, SORT_THE_MATCHES, False) and ORDER_VAR not in self.params
        if sort and ordering and isinstance(ordering[0], str):
            return queryset.order_by(sorted_after_reading(ordering[0]), *ordering[1:])
        return queryset


class IdNumberSearchChangeList(MatchesSortedChangeList):
    """A change list that takes the token for a parameter of its own, not a filter."""

    def __init__(self, request, *args, **kwargs) -> None:
        self.searched_number = searched_number(request)
        super().__init__(request, *args, **kwargs)

    def get_filters_params(self, params=None):
        lookups = super().get_filters_params(params)
        lookups.pop(TOKEN_VAR, None)
        return lookups

    def get_results(self, request):
        super().get_results(request)
        # The page's rows with only the columns they show (ModelAdmin.list_columns), not every
        # column of the model: a case has some fifty, two of them encrypted. The count, the
        # filters and the exports still use the whole queryset.
        #
        # And in two steps: the page's ids first, sorted and cut to the page on the cases
        # alone, then those rows with what they show of other tables. In one query the
        # planner may join every match before it sorts: in the province (bench/province.py)
        # a reference start matched 9,999 cases where it expected 20, and their 9,999
        # applicants were read for a page of 100.
        columns = getattr(self.model_admin, "list_columns", ())
        if columns and isinstance(self.result_list, QuerySet):
            ids = list(self.result_list.values_list("pk", flat=True))
            rows = self.apply_select_related(self.root_queryset).filter(pk__in_array=ids)
            by_id = {row.pk: row for row in rows.order_by().only(*columns)}
            self.result_list = [by_id[pk] for pk in ids if pk in by_id]


class ApplicantChangeList(IdNumberSearchChangeList):
    """The applicants' list: sorted by name for a user of one office, its page's applicants
    are found in that office's cases, which keep the name (selectors.applicant_ids_by_name).

    Searched or filtered, or for a user of several offices or all, the list is Django's.
    """

    def get_results(self, request):
        super().get_results(request)
        ordering = tuple(self.queryset.query.order_by)
        if ordering not in (("name", "-pk"), ("-name", "-pk")):
            return
        if self.query or self.searched_number is not None or self.has_active_filters:
            return
        office_ids = office_ids_visible_to(request.user)
        if office_ids is None or len(office_ids) != 1 or not isinstance(self.result_list, QuerySet):
            return
        page = self.result_list.query
        ids = selectors.applicant_ids_by_name(
            office_id=office_ids[0],
            descending=ordering[0].startswith("-"),
            start=page.low_mark,
            stop=page.high_mark,
        )
        by_id = {row.pk: row for row in self.queryset.order_by().filter(pk__in_array=ids)}
        self.result_list = [by_id[pk] for pk in ids if pk in by_id]


class IdNumberSearchMixin:
    """For a ModelAdmin whose list may be searched by a whole ID number.

    `id_number_lookup` is the lookup of the number's hash, e.g. "applicant__id_number_hash".
    """

    id_number_lookup = ""

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_search"
        view = self.admin_site.admin_view(csrf_protect(self.search_view))
        return [path("search/", view, name=name), *super().get_urls()]

    def get_changelist(self, request, **kwargs):
        return IdNumberSearchChangeList

    def search_view(self, request):
        """Turn the search box's POST into the list's URL, a whole ID number into a token."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        kept = QueryDict(mutable=True)
        for key, values in request.POST.lists():
            if key not in NOT_SEARCHED:
                kept.setlist(key, values)
        term = request.POST.get(SEARCH_VAR, "").strip()
        refusal = self._refused_term(term)
        if refusal is not None:
            messages.error(request, refusal)
        elif looks_like_id_number(term):
            number = compact_id_number(term)
            try:
                services.id_number_search_record(
                    acting_user=request.user,
                    id_number=number,
                    where=str(self.opts.verbose_name_plural),
                )
            except services.SearchLimitReached as limit:
                messages.error(request, limit.message)
            else:
                kept[TOKEN_VAR] = remember_search(request.session, number)
        elif term:
            kept[SEARCH_VAR] = term
        return self._to_changelist(kept)

    def changelist_view(self, request, extra_context=None):
        refusal = self._refused_search(request)
        if refusal is not None:
            messages.error(request, refusal)
            kept = request.GET.copy()
            for key in (SEARCH_VAR, TOKEN_VAR):
                kept.pop(key, None)
            return self._to_changelist(kept)
        return super().changelist_view(request, extra_context)

    def _refused_term(self, term: str) -> str | None:
        if len(term) > MAX_TERM_LENGTH:
            return _("Type at most %(count)d characters to search.") % {"count": MAX_TERM_LENGTH}
        if holds_id_digits(term) and not looks_like_id_number(term):
            return _("An ID number is searched whole: type all 18 characters.")
        return None

    def _refused_search(self, request) -> str | None:
        if holds_id_digits(request.GET.get(SEARCH_VAR, "")):
            return _("Search by ID number with the search box.")
        if request.GET.get(TOKEN_VAR) and searched_number(request) is None:
            return _("This search by ID number has expired; search again.")
        return None

    def _to_changelist(self, params: QueryDict) -> HttpResponseRedirect:
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        return HttpResponseRedirect(f"{url}?{params.urlencode()}" if params else url)

    def id_number_search_results(self, request, queryset, search_term: str):
        """Return (queryset, True) narrowed by the request's ID-number search, or None.

        A whole ID number arriving as a plain term (a typed URL, the autocomplete) matches
        nothing: only a counted, logged search finds a number.
        """
        searched = searched_number(request)
        if searched is not None:
            return queryset.filter(**{self.id_number_lookup: searched.digest}), False
        if looks_like_id_number(search_term):
            return queryset.none(), False
        return None


#: A search's matches up to this many are listed by their ids (few_by_id).
ROWS_SEARCHED_BY_ID = 2000


def few_by_id(
    request, queryset, *conditions, cap: int | None = None, sorted_up_to: int = 0, **lookups
):
    """Return the queryset narrowed by `lookups`, by a list of ids when at most `cap` match.

    Asked for the newest 100, PostgreSQL walks the newest-first index expecting matches
    spread evenly; a reference start or a block of names meets them only deep down (EXPLAIN
    at 1M: 850 ms with a state filter). The ids found are read by their keys and sorted
    (SORT_THE_MATCHES). Many matches are fetched no further than `cap`: they are then
    usually met early, and the list's count needs no query of its own (SearchedCountMixin:
    counting 1,001 cases named 王 in one office took 940 ms at 1M, walking two indexes in id
    order).

    `sorted_up_to`: for conditions an index answers whose matches are not met early (a
    reference start names one office's cases of one year), up to this many are read by that
    index and sorted too. Counted in every office (a bound: a reference start names one
    office), so that index alone answers.
    """
    cap = ROWS_SEARCHED_BY_ID if cap is None else cap
    matches = queryset.filter(*conditions, **lookups)
    ids = list(matches.order_by().values_list("pk", flat=True)[: cap + 1])
    if len(ids) <= cap:
        # Read by their keys and sorted: walking the list's order with the ids for a filter,
        # PostgreSQL met a reference start's 1,441 claims 79,886 claims down (17 ms of 19).
        setattr(request, SORT_THE_MATCHES, True)
        return queryset.filter(pk__in_array=ids)
    setattr(request, SEARCH_FOUND_MORE_THAN, cap)
    if sorted_up_to > cap:
        # Counted on the conditions' index alone: the user's offices would filter each entry.
        in_every_office = queryset.model._base_manager.filter(*conditions, **lookups)
        if in_every_office[: sorted_up_to + 1].count() <= sorted_up_to:
            setattr(request, SORT_THE_MATCHES, True)
    return matches


SEARCH_FOUND_MORE_THAN = "_search_found_more_than"
SORT_THE_MATCHES = "_sort_the_matches"


def sorted_after_reading(field: str) -> OrderBy:
    """Return an ordering by `field` that no index can serve, so the planner reads the rows
    the conditions' own index finds and sorts them.

    An auditor's newest cases with a reference starting B01-2024-00 (9,999, one office's one
    year): walking the newest-first index met them 538,656 rows down, 256 ms by EXPLAIN
    ANALYZE at 1M; read by the reference's index and sorted, 5 ms. COALESCE of a column with
    itself sorts as the column does; PostgreSQL does not see through it.
    """
    name = field.removeprefix("-")
    return OrderBy(Coalesce(F(name), F(name)), descending=field.startswith("-"))


class SearchedCountMixin:
    """For a ModelAdmin with a CappedCountPaginator: a searched list counts up to a smaller
    cap, and not at all when its search (few_by_id) already found more rows than that."""

    #: A search is for finding a record: past this many matches, counting further only costs
    #: time (at 1M cases a broad name search counted to 10,000 took 38 ms; the page itself 50).
    searched_count_cap = 1_000

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        paginator = super().get_paginator(
            request, queryset, per_page, orphans, allow_empty_first_page
        )
        if request.GET.get(SEARCH_VAR, "").strip() or request.GET.get(TOKEN_VAR):
            paginator.cap = self.searched_count_cap
            if getattr(request, SEARCH_FOUND_MORE_THAN, 0) > paginator.cap:
                paginator.count = paginator.cap + 1  # more than the cap: the list says so
        return paginator


CASES_SEARCHED_BY_ID = 2000


def ids_of_cases_named(request, name_start: str, *, column: str = "pk") -> list | None:
    """Return `column` of the visible cases whose applicant's name starts so, read from the
    case's name index alone, or None past CASES_SEARCHED_BY_ID of them.

    Given the ids, PostgreSQL probes each claim or applicant by its key; told to join, it
    walked the office's claims or every namesake applicant (王 at 1M: 0.2-0.4 s).
    """
    cases = selectors.cases_visible_to(user=request.user)
    named = cases.filter(applicant_name__startswith=name_start).order_by()
    ids = list(named.values_list(column, flat=True)[: CASES_SEARCHED_BY_ID + 1])
    return ids if len(ids) <= CASES_SEARCHED_BY_ID else None


def case_reference_search_results(request, queryset, search_term: str):
    """Narrow records filed under a case (the audit trail, the access log) to the cases whose
    reference starts with the term: the cases are found first, by the reference's index, then
    their records by the case's; `case__reference__icontains` read every record."""
    term = search_term.strip().upper()
    if not term:
        return queryset, False
    cases = selectors.cases_visible_to(user=request.user).filter(reference__startswith=term)
    case_ids = list(cases.order_by().values_list("pk", flat=True)[: CASES_SEARCHED_BY_ID + 1])
    if len(case_ids) > CASES_SEARCHED_BY_ID:  # a broad start ("DC-2026"): met early in time
        return queryset.filter(case__reference__startswith=term), False
    # By the case's id, not the case: a related lookup normalizes each value (3 µs each).
    return queryset.filter(case__id__in_array=case_ids), False
