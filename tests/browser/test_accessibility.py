"""axe-core finds nothing to fix on what the plugin shows readers, online and offline.

axe-core comes with the ``axe-playwright-python`` package: nothing is downloaded at run
time. Every rule axe runs by default is checked (WCAG A and AA and its best practices).
"""

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.offline import (
    ACTIVE_WORKER_SETTLED,
    visit_and_wait_for_worker,
    wait_until,
)
from tests.factories import StandardPageFactory
from tests.testapp.models import StandardPage
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.templatetags import wagtail_offline as offline_tags

pytestmark = pytest.mark.django_db(transaction=True)

# Resolves once the page has stopped changing for a moment: the reader's scripts fill in
# the device's state asynchronously, and axe must judge what the reader ends up seeing.
DOM_SETTLED = """async () => {
    await new Promise((resolve) => {
        let timer = setTimeout(resolve, 400);
        const observer = new MutationObserver(() => {
            clearTimeout(timer);
            timer = setTimeout(() => { observer.disconnect(); resolve(); }, 400);
        });
        observer.observe(document.documentElement,
            { subtree: true, childList: true, attributes: true, characterData: true });
        setTimeout(() => { observer.disconnect(); resolve(); }, 5000);
    });
}"""

# A well-formed page around the reader's template tags (the test app's own pages lack a
# main landmark, which axe would report against the tags).
READER_PAGE_TEMPLATE = """{% load wagtail_offline %}<!DOCTYPE html>
<html lang="en">
<head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{{ page.title }}</title>
    {% offline_head %}
</head>
<body>
    <header>{% offline_status %}</header>
    <main>
        <h1>{{ page.title }}</h1>
        {% offline_save_button %}
        <p>A walk along the edge, with wide views over the moor.</p>
    </main>
</body>
</html>
"""

READER_TAGS = ("offline_status", "offline_save_button")


def violations_report(violations):
    lines = [f"axe found {len(violations)} violation(s):"]
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}"
            f" [{violation['helpUrl']}]"
        )
        for node in violation["nodes"]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node['html']}")
    return "\n".join(lines)


def assert_accessible(page, where):
    page.evaluate(DOM_SETTLED)
    violations = Axe().run(page).response["violations"]
    if violations:
        report = violations_report(violations)
        print(f"{where}\n{report}")
        raise AssertionError(f"{where}: {report}")


def settle_worker(page):
    wait_until(
        lambda: page.evaluate(ACTIVE_WORKER_SETTLED),
        message="the worker to finish installing",
    )


@pytest.fixture
def reader_page_template(settings, tmp_path, monkeypatch):
    """Standard pages render with the reader's tags inside a well-formed page."""
    missing = [name for name in READER_TAGS if name not in offline_tags.register.tags]
    if missing:
        pytest.fail(
            "The template tags {} are not in wagtail_offline/templatetags/"
            "wagtail_offline.py yet.".format(", ".join(missing))
        )
    (tmp_path / "accessibility").mkdir()
    (tmp_path / "accessibility" / "reader_page.html").write_text(READER_PAGE_TEMPLATE)
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]},
        *settings.TEMPLATES[1:],
    ]
    monkeypatch.setattr(StandardPage, "template", "accessibility/reader_page.html")


def test_the_listing_has_no_violations_online_and_offline(page, trail_site):
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/offline/")
    settle_worker(page)
    # Again, now that the worker controls the page and the device holds the pages.
    page.goto(base + "/offline/")
    assert_accessible(page, "/offline/ online")

    page.context.set_offline(True)
    response = page.goto(base + "/offline/")
    assert response.status == 200 and response.from_service_worker
    assert_accessible(page, "/offline/ offline")


def test_the_fallback_page_has_no_violations_online_and_offline(page, trail_site):
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/trails/")
    settle_worker(page)
    page.goto(base + "/offline/unavailable/")
    assert_accessible(page, "/offline/unavailable/ online")

    page.context.set_offline(True)
    response = page.goto(base + "/soon/")
    assert response.status == 503 and response.from_service_worker
    assert response.headers["x-wagtail-offline"] == "fallback"
    assert_accessible(page, "the fallback page offline")


def test_the_save_button_and_the_offline_banner_have_no_violations(
    page, reader_page_template, trail_site
):
    # reader_page_template comes first: trail_site's offline copies have the tags in.
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/trails/ridge/")
    settle_worker(page)
    page.goto(base + "/trails/ridge/")
    assert page.locator("main button").count() >= 1, "no save button rendered"
    assert_accessible(page, "a page with the save button, online")

    page.context.set_offline(True)
    response = page.goto(base + "/trails/ridge/")
    assert response.status == 200 and response.from_service_worker
    page.get_by_role("status").filter(has_text="offline").first.wait_for(
        state="visible"
    )
    assert_accessible(page, "a page with the offline banner")


def test_a_saved_page_and_the_listings_saved_section_have_no_violations(
    page, reader_page_template, trail_site
):
    base = trail_site["url"]
    StandardPageFactory(parent=trail_site["home"], title="Crook Moor", slug="moor")
    rebuild_site_manifest(trail_site["site"])
    visit_and_wait_for_worker(page, base + "/moor/")
    settle_worker(page)
    page.goto(base + "/moor/")
    page.get_by_role("button", name="Save for offline").click()
    page.locator("main button", has_text="Remove").wait_for(state="visible")
    assert_accessible(page, "a page saved for offline")

    page.goto(base + "/offline/")
    page.locator("main", has_text="Crook Moor").get_by_role(
        "button", name="Remove"
    ).first.wait_for(state="visible")
    assert_accessible(page, "/offline/ with a saved page")

    page.context.set_offline(True)
    response = page.goto(base + "/moor/")
    assert response.status == 200 and response.from_service_worker
    assert_accessible(page, "a saved page read offline")
