"""Which pages are offline: flags, subpages, and everything private left out."""

import pytest

from tests.factories import (
    PlainPageFactory,
    StandardPageFactory,
    restrict_with_password,
)
from wagtail_offline.selection import offline_pages

pytestmark = pytest.mark.django_db


def titles(site):
    return [page.title for page in offline_pages(site)]


def test_nothing_is_offline_until_an_editor_flags_a_page(site, home):
    StandardPageFactory(parent=home, title="Trail")
    assert titles(site) == []


def test_a_flagged_page_is_offline_but_not_its_subpages(site, home):
    trail = StandardPageFactory(parent=home, title="Trail", offline_available=True)
    StandardPageFactory(parent=trail, title="Stage")
    assert titles(site) == ["Trail"]


def test_subpages_of_any_type_follow_a_section_flagged_with_them(site, home):
    trails = StandardPageFactory(
        parent=home,
        title="Trails",
        offline_available=True,
        offline_include_subpages=True,
    )
    stage = StandardPageFactory(parent=trails, title="Stage")
    PlainPageFactory(parent=stage, title="Plain")
    StandardPageFactory(parent=home, title="Elsewhere")
    assert titles(site) == ["Trails", "Stage", "Plain"]


def test_include_subpages_without_available_flags_nothing(site, home):
    trails = StandardPageFactory(parent=home, title="Trails")
    # Editors can no longer save this (see test_admin_editor); rows from before can hold it.
    type(trails).objects.filter(pk=trails.pk).update(offline_include_subpages=True)
    StandardPageFactory(parent=trails, title="Stage")
    assert titles(site) == []


def test_drafts_are_never_offline(site, home):
    trails = StandardPageFactory(
        parent=home,
        title="Trails",
        offline_available=True,
        offline_include_subpages=True,
    )
    draft = StandardPageFactory(parent=trails, title="Draft")
    draft.unpublish()
    assert titles(site) == ["Trails"]


def test_view_restricted_pages_and_their_subpages_are_never_offline(site, home):
    trails = StandardPageFactory(
        parent=home,
        title="Trails",
        offline_available=True,
        offline_include_subpages=True,
    )
    notes = StandardPageFactory(
        parent=trails, title="Ranger notes", offline_available=True
    )
    StandardPageFactory(parent=notes, title="Below the notes")
    restrict_with_password(notes)
    assert titles(site) == ["Trails"]


def test_pages_of_other_sites_are_not_listed(site, home, root_page):
    from wagtail.models import Site

    other_home = StandardPageFactory(
        parent=root_page, title="Other home", offline_available=True
    )
    Site.objects.create(hostname="other.example", root_page=other_home)
    StandardPageFactory(parent=home, title="Ours", offline_available=True)
    assert titles(site) == ["Ours"]


def test_the_selection_query_does_not_grow_with_the_number_of_flags(site, home):
    """SQLite refuses queries with about a thousand conditions: flags must not add any."""

    def sql():
        return str(offline_pages(site).query)

    sections = []
    for number in range(3):
        section = StandardPageFactory(
            parent=home,
            title=f"Section {number}",
            offline_available=True,
            offline_include_subpages=True,
        )
        sections.append(section)
        StandardPageFactory(
            parent=section, title=f"Walk {number}", offline_available=True
        )
    before = sql()
    for number in range(20):
        # Flagged one by one, or as sections below a flagged section, or without children.
        StandardPageFactory(
            parent=sections[0], title=f"More {number}", offline_available=True
        )
        StandardPageFactory(
            parent=sections[1],
            title=f"Nested {number}",
            offline_available=True,
            offline_include_subpages=True,
        )
    assert len(sql()) == len(before)
    assert len(titles(site)) == 6 + 40
