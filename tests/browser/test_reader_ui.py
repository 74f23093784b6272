"""What readers see of offline reading, in Chromium: the status notices, the save button
and the listing's tools (search, this device's pages, progress)."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.offline import (
    cached_urls,
    manifest_versions,
    update_worker,
    visit_and_wait_for_worker,
)
from tests.browser.worker_messages import ask_worker
from tests.factories import StandardPageFactory
from wagtail_offline.models import OfflineSettings

pytestmark = pytest.mark.django_db(transaction=True)

NOTICES = "[data-wagtail-offline-notices]"
OFFLINE_BANNER = "You are offline — showing saved pages"

# Records every text the listing's progress line shows, however briefly.
RECORD_PROGRESS = """
window.progressTexts = [];
new MutationObserver(() => {
    const line = document.querySelector("[data-wagtail-offline-progress]");
    if (line && line.textContent) window.progressTexts.push(line.textContent);
}).observe(document, { subtree: true, childList: true, characterData: true });
"""


def send_form_offline(page, base, email=""):
    visit_and_wait_for_worker(page, base + "/report/")
    page.context.set_offline(True)
    page.fill("input[name=where]", "Below the ridge")
    page.eval_on_selector("form", "form => { form.noValidate = true; }")
    page.fill("input[name=email]", email)
    with page.expect_navigation():
        page.click("button[type=submit]")


def listing_item(page, title):
    return page.locator("li", has=page.get_by_role("link", name=title, exact=True))


def test_the_offline_banner_comes_and_goes_with_the_network(page, trail_site):
    visit_and_wait_for_worker(page, trail_site["url"] + "/trails/")
    notices = page.locator(NOTICES)
    expect(notices).not_to_contain_text(OFFLINE_BANNER)

    page.context.set_offline(True)
    expect(notices).to_contain_text(OFFLINE_BANNER)
    expect(page.get_by_role("status").filter(has_text=OFFLINE_BANNER)).to_be_visible()

    page.context.set_offline(False)
    expect(notices).not_to_contain_text(OFFLINE_BANNER)


def test_a_page_read_offline_says_it_came_from_the_device(page, trail_site):
    visit_and_wait_for_worker(page, trail_site["url"] + "/trails/")
    page.context.set_offline(True)
    page.goto(trail_site["url"] + "/trails/ridge/")
    notices = page.locator(NOTICES)
    expect(notices).to_contain_text("This page was loaded from your device")
    expect(notices).to_contain_text(OFFLINE_BANNER)


def test_a_page_from_the_device_because_the_server_is_down_does_not_say_offline(
    page, trail_site, server_faults
):
    visit_and_wait_for_worker(page, trail_site["url"] + "/trails/")
    server_faults.FAULTS["/trails/ridge/"] = ("status", 503)
    page.goto(trail_site["url"] + "/trails/ridge/")
    notices = page.locator(NOTICES)
    expect(notices).to_contain_text("This page was loaded from your device")
    # The network answered: the reader is online, the site is not.
    page.wait_for_timeout(500)
    expect(notices).not_to_contain_text(OFFLINE_BANNER)


def test_the_update_notice_appears_without_a_reload_and_reloads_when_asked(
    page, trail_site
):
    visit_and_wait_for_worker(page, trail_site["url"] + "/trails/")
    versions = manifest_versions(page)
    page.evaluate("window.sameDocument = true")
    notices = page.locator(NOTICES)
    expect(notices).not_to_contain_text(
        "This site was updated"
    )  # The first worker is no update.

    ridge = trail_site["ridge"]
    ridge.title = "Ridge walk, rerouted"
    ridge.save_revision().publish()  # The signal rebuilds the manifest.
    update_worker(page, versions)

    expect(notices).to_contain_text("This site was updated.")
    assert page.evaluate("window.sameDocument") is True  # Never reloaded by itself.
    notices.get_by_role("button", name="Reload").click()
    expect(notices).not_to_contain_text("This site was updated")
    assert page.evaluate("window.sameDocument") is None


def test_a_reader_saves_a_page_reads_it_offline_and_removes_it(page, trail_site):
    base = trail_site["url"]
    StandardPageFactory(parent=trail_site["home"], title="Meadow loop", slug="meadow")
    visit_and_wait_for_worker(page, base + "/meadow/")
    button = page.locator("button[data-wagtail-offline-save]")
    expect(button).to_have_text("Save for offline")
    expect(button).to_have_attribute("aria-pressed", "false")

    button.click()
    expect(button).to_have_text("Saved · Remove", timeout=15000)
    expect(button).to_have_attribute("aria-pressed", "true")
    assert "/meadow/" in cached_urls(page)

    page.goto(base + "/offline/")
    saved = page.locator("[data-wagtail-offline-saved]")
    expect(saved.get_by_role("heading", name="Saved on this device")).to_be_visible()
    expect(saved.get_by_role("link", name="Meadow loop")).to_have_attribute(
        "href", "/meadow/"
    )

    page.context.set_offline(True)
    response = page.goto(base + "/meadow/")
    assert response.status == 200 and response.from_service_worker
    expect(page.locator("h1")).to_have_text("Meadow loop")

    page.goto(base + "/offline/")
    saved.get_by_role("button", name="Remove “Meadow loop” from this device").click()
    expect(saved.get_by_role("link", name="Meadow loop")).to_have_count(0)
    expect(saved).to_contain_text("You have not saved any page yet")
    assert "/meadow/" not in cached_urls(page)

    page.context.set_offline(False)
    page.goto(base + "/meadow/")
    expect(button).to_have_text("Save for offline")


def test_a_page_the_editors_keep_offline_shows_as_available_not_removable(
    page, trail_site
):
    visit_and_wait_for_worker(page, trail_site["url"] + "/trails/ridge/")
    page.reload()  # Controlled from the start, as on any later visit.
    button = page.locator("button[data-wagtail-offline-save]")
    expect(button).to_have_text("Available offline")
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button).to_have_attribute("aria-disabled", "true")


def test_the_listing_search_filters_by_title_and_summary_offline(page, trail_site):
    base = trail_site["url"]
    ridge = trail_site["ridge"]
    ridge.search_description = "A windy crest above the moor"
    ridge.save_revision().publish()  # The listing the worker keeps is rebuilt with it.
    visit_and_wait_for_worker(page, base + "/offline/")
    page.context.set_offline(True)
    page.goto(base + "/offline/")
    search = page.get_by_role("searchbox", name="Search these pages")
    matches = page.locator("[data-wagtail-offline-matches]")

    search.fill("windy")  # In the summary only.
    expect(listing_item(page, "Ridge walk")).to_be_visible()
    # The section's own page stays as its heading, though it does not match.
    expect(listing_item(page, "Trails")).to_be_visible()
    expect(matches).to_have_text("1 page matches")

    search.fill("TRAILS")
    expect(listing_item(page, "Ridge walk")).to_be_hidden()
    expect(listing_item(page, "Trails")).to_be_visible()
    expect(matches).to_have_text("1 page matches")

    search.fill("zzz")
    expect(page.locator("section", has=listing_item(page, "Trails"))).to_be_hidden()
    expect(matches).to_have_text("0 pages match")

    search.fill("")
    expect(listing_item(page, "Ridge walk")).to_be_visible()
    expect(listing_item(page, "Trails")).to_be_visible()
    expect(matches).to_have_text("")


def test_the_listing_marks_what_this_device_holds_offline_too(page, trail_site):
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/offline/")
    page.context.set_offline(True)
    page.goto(base + "/offline/")
    device = page.locator("[data-wagtail-offline-device]")
    expect(device).to_contain_text("2 of 2 pages are on this device")
    expect(device).to_contain_text("Last updated")
    expect(device.locator("[data-wagtail-offline-storage]")).to_have_text(
        re.compile(r"Storage: [\d.,]+ \w+ used of the [\d.,]+ \w+ this browser allows")
    )
    for title in ("Trails", "Ridge walk"):
        expect(listing_item(page, title)).to_contain_text("On this device")

    # The browser evicts a page: the listing says so, as it is, offline.
    page.evaluate(
        """async () => {
            for (const name of await caches.keys()) {
                await (await caches.open(name)).delete("/trails/ridge/");
            }
        }"""
    )
    page.reload()
    expect(listing_item(page, "Ridge walk")).to_contain_text("Not on this device yet")
    expect(listing_item(page, "Trails")).to_contain_text("On this device")
    expect(device).to_contain_text("1 of 2 pages are on this device")
    expect(device).to_contain_text("Some saved pages were removed by your browser")

    # Online again, the listing asks the worker to download what is missing.
    page.context.set_offline(False)
    page.reload()
    expect(listing_item(page, "Ridge walk")).to_contain_text(
        "On this device", timeout=15000
    )
    assert "/trails/ridge/" in cached_urls(page)


def test_the_listing_shows_the_pages_read_recently(page, trail_site):
    base = trail_site["url"]
    offline_settings = OfflineSettings.for_site(trail_site["site"])
    offline_settings.recent_pages = 5
    offline_settings.save()
    StandardPageFactory(parent=trail_site["home"], title="Meadow loop", slug="meadow")
    visit_and_wait_for_worker(page, base + "/")
    page.goto(base + "/meadow/")  # Read online: the worker keeps it.

    page.goto(base + "/offline/")
    recent = page.locator("[data-wagtail-offline-recent]")
    expect(recent.get_by_role("heading", name="Recently read")).to_be_visible(
        timeout=15000
    )
    expect(recent.get_by_role("link", name="Meadow loop")).to_have_attribute(
        "href", "/meadow/"
    )


def test_the_listing_shows_progress_while_the_worker_downloads(page, trail_site):
    base = trail_site["url"]
    visit_and_wait_for_worker(page, base + "/offline/")
    versions = manifest_versions(page)
    page.reload()
    page.evaluate(RECORD_PROGRESS)

    for number in range(3):
        StandardPageFactory(
            parent=trail_site["trails"], title=f"Loop {number}", slug=f"loop-{number}"
        ).save_revision().publish()
    update_worker(page, versions)

    texts = page.evaluate("window.progressTexts")
    assert any(re.fullmatch(r"Saving \d+ of \d+ pages…", text) for text in texts), texts
    # Once done, the line is empty again and the new pages show as held.
    expect(page.locator("[data-wagtail-offline-progress]")).to_have_text("")


def test_the_reader_is_told_a_form_was_kept_then_sent(page, trail_site, report_form):
    base = trail_site["url"]
    other_tab = page.context.new_page()
    other_tab.goto(base + "/trails/")
    send_form_offline(page, base)
    notices = other_tab.locator(NOTICES)
    expect(notices).to_contain_text(
        "“Report a fallen tree” is kept on this device: it will be sent when you are back online."
    )

    page.context.set_offline(False)  # The open tab asks the worker to send it now.
    expect(notices).to_contain_text("“Report a fallen tree” was sent.")
    expect(notices).not_to_contain_text("is kept on this device")
    notices.get_by_role("button", name="Dismiss").click()
    expect(notices).not_to_contain_text("was sent")


def test_the_reader_sees_why_a_form_sent_offline_was_refused(
    page, trail_site, report_form
):
    base = trail_site["url"]
    other_tab = page.context.new_page()
    other_tab.goto(base + "/trails/")
    send_form_offline(page, base, email="not an address")
    page.context.set_offline(False)  # The open tabs ask the worker to send it now.
    notice = other_tab.locator(".wagtail-offline-notice--form-rejected")
    expect(notice).to_contain_text("Not sent: “Report a fallen tree” was refused:")
    expect(notice.get_by_role("listitem")).to_contain_text(
        ["email: Enter a valid email address."]
    )


def test_a_refused_form_is_shown_in_a_tab_opened_later_until_the_reader_lets_it_go(
    page, trail_site, report_form
):
    base = trail_site["url"]
    other_tab = page.context.new_page()
    other_tab.goto(base + "/trails/")
    send_form_offline(page, base, email="not an address")
    page.context.set_offline(False)
    expect(other_tab.locator(".wagtail-offline-notice--form-rejected")).to_be_visible()
    other_tab.close()

    # A tab opened later: the refusal is still there, with what the reader typed.
    page.goto(base + "/trails/")
    notice = page.locator(".wagtail-offline-notice--form-rejected")
    expect(notice).to_contain_text("“Report a fallen tree” was refused:")
    notice.get_by_text("What you filled in").click()
    expect(notice.locator("dl")).to_contain_text("Below the ridge")
    expect(notice.locator("dl")).not_to_contain_text("csrfmiddlewaretoken")
    notice.get_by_role("button", name="Dismiss").click()

    # Let go: neither the worker nor a later tab keeps it.
    page.goto(base + "/trails/")
    page.wait_for_timeout(1000)  # Time for the worker's answer, which must not come.
    expect(page.locator(".wagtail-offline-notice--form-rejected")).to_have_count(0)
    forms = ask_worker(page, "forms")
    assert forms == {"forms": []}
