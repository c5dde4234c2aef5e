"""Searching a list as its search box does: a POST, then the list the redirect names."""

from django.urls import reverse


def search_url(admin_name: str) -> str:
    return reverse(f"admin:{admin_name}_search")


def search(client, admin_name: str, term: str, **kept):
    """POST `term` to the search box of `admin_name` ("reissue_reissuecase"); return the
    redirect (the list's URL, with the search token or the term) and the list's page."""
    redirect = client.post(search_url(admin_name), {"q": term, **kept})
    assert redirect.status_code == 302, redirect.content[:300]
    return redirect, client.get(redirect["Location"])
