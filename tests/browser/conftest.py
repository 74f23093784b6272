"""Real-browser tests: Playwright drives Chromium against Django's live server.

Debian's Chromium (/usr/bin/chromium) is used when present; elsewhere a browser
that Playwright manages. Under CI=true a missing browser fails the run.
"""

import os

import pytest
from playwright.sync_api import expect
from wagtail_factories import ImageFactory

from tests import in_flight
from tests import server_faults as server_faults_module
from tests.browser.chromium import CHROMIUM_ARGS, find_chromium
from tests.factories import (
    FormFieldFactory,
    FormPageFactory,
    PlainPageFactory,
    StandardPageFactory,
    restrict_with_password,
)
from wagtail_offline.manifest import rebuild_site_manifest

# pytest-playwright keeps an asyncio loop running for the whole session.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# What a page shows after a round trip through the worker and the server (a form sent
# when the network returns, a refusal) may take more than Playwright's default 5 s on a
# loaded 2-core CI machine. A wait ends as soon as what it expects is there.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    executable = find_chromium()
    args = {**browser_type_launch_args, "args": CHROMIUM_ARGS}
    if executable:
        return {**args, "executable_path": executable}
    if os.environ.get("CI") == "true":
        pytest.fail(
            "No Chromium found for the browser tests: install it (apt-get install chromium) "
            "or set WAGTAIL_OFFLINE_CHROMIUM. Under CI=true this is a failure, not a skip."
        )
    return args  # A developer's Playwright-managed browser, if they installed one.


@pytest.fixture(autouse=True)
def live_server_idle_before_flush():
    """Set up after the database fixture and before ``page``, so torn down between them:
    the database is flushed only once the live server has answered what the closed page
    asked (on PostgreSQL a request still running can deadlock with the flush)."""
    yield
    in_flight.wait_until_idle()


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def trail_site(site, home, live_server):
    """A trail guide: /trails/ flagged with its subpages, /trails/notes/ private, /soon/ not flagged."""
    trails = StandardPageFactory(
        parent=home,
        title="Trails",
        slug="trails",
        offline_available=True,
        offline_include_subpages=True,
    )
    ridge = StandardPageFactory(
        parent=trails, title="Ridge walk", slug="ridge", image=ImageFactory()
    )
    notes = StandardPageFactory(parent=trails, title="Ranger notes", slug="notes")
    restrict_with_password(notes)
    PlainPageFactory(parent=home, title="Coming soon", slug="soon")
    rebuild_site_manifest(site)
    return {
        "site": site,
        "home": home,
        "trails": trails,
        "ridge": ridge,
        "url": live_server.url,
    }


@pytest.fixture
def report_form(trail_site):
    """A form page the editors keep offline; it queues submissions (the default)."""
    form = FormPageFactory(
        parent=trail_site["home"],
        title="Report a fallen tree",
        slug="report",
        offline_available=True,
        to_address="",
        from_address="",
    )
    FormFieldFactory(page=form, label="Where", field_type="singleline")
    FormFieldFactory(page=form, label="Email", field_type="email", required=False)
    rebuild_site_manifest(trail_site["site"])
    return form


@pytest.fixture
def server_faults():
    """The live server made slow or broken for chosen paths (``tests.server_faults``)."""
    server_faults_module.reset()
    yield server_faults_module
    server_faults_module.reset()
