"""Forms sent offline: queued by the worker, sent exactly once when the network is back."""

import pytest
from wagtail.contrib.forms.models import FormSubmission

from tests.browser.offline import visit_and_wait_for_worker, wait_until
from tests.browser.worker_messages import (
    ask_worker,
    broadcasts,
    outbox,
    record_broadcasts,
)
from wagtail_offline.models import OfflineFormSubmission, OfflineSettings

pytestmark = pytest.mark.django_db(transaction=True)


def submissions(form):
    return FormSubmission.objects.filter(page=form).count()


def send_offline(page, base, where, email=""):
    """Opens the form online, then fills it in and sends it with the network gone."""
    visit_and_wait_for_worker(page, base + "/report/")
    page.context.set_offline(True)
    page.fill("input[name=where]", where)
    # The browser's own checks aside: what the server says about the fields is the test.
    page.eval_on_selector("form", "form => { form.noValidate = true; }")
    page.fill("input[name=email]", email)
    with page.expect_navigation() as navigation:
        page.click("button[type=submit]")
    return navigation.value


def test_a_form_sent_offline_is_sent_exactly_once_after_the_tab_is_reopened(
    page, trail_site, report_form
):
    base = trail_site["url"]
    record_broadcasts(page.context)
    # The tab that sent the form shows the "queued" page; the others are told.
    other_tab = page.context.new_page()
    other_tab.goto(base + "/trails/")
    response = send_offline(page, base, "Below the ridge")
    assert response.status == 202 and response.from_service_worker
    assert page.locator("h1").inner_text() == "Your form is saved on this device"
    [queued] = outbox(page)
    assert (
        queued["state"] == "queued" and ["where", "Below the ridge"] in queued["fields"]
    )
    assert queued["title"] == "Report a fallen tree" and queued["pageUrl"] == "/report/"
    [notice] = wait_until(
        lambda: broadcasts(other_tab, "form-queued"), message="the notice"
    )
    assert notice["id"] == queued["id"] and notice["title"] == "Report a fallen tree"
    assert submissions(report_form) == 0

    context = page.context
    page.close()
    other_tab.close()
    context.set_offline(False)
    tab = context.new_page()
    tab.goto(base + "/trails/")
    wait_until(lambda: submissions(report_form) == 1, message="the form to be sent")
    wait_until(lambda: outbox(tab) == [], message="the outbox to be emptied")
    # Asked again (another tab, Background Sync): nothing is sent twice.
    assert ask_worker(tab, "send-forms") == {"state": "sent", "waiting": 0}
    tab.goto(base + "/trails/ridge/")
    assert submissions(report_form) == 1
    stored = FormSubmission.objects.get(page=report_form).get_data()
    assert stored["where"] == "Below the ridge"
    assert (
        OfflineFormSubmission.objects.get(page=report_form).key
        == queued["idempotencyKey"]
    )


def test_a_rejected_submission_is_kept_with_its_errors(page, trail_site, report_form):
    base = trail_site["url"]
    record_broadcasts(page.context)
    send_offline(page, base, "Near the bridge", email="not an address")
    page.context.set_offline(False)
    assert ask_worker(page, "send-forms") == {"state": "sent", "waiting": 0}

    [kept] = outbox(page)
    assert kept["state"] == "rejected" and "email" in kept["errors"]
    assert kept["message"] and ["where", "Near the bridge"] in kept["fields"]
    [notice] = broadcasts(page, "form-rejected")
    assert notice["id"] == kept["id"] and notice["errors"] == kept["errors"]
    assert submissions(report_form) == 0
    # Not sent again and again: the reader has to correct it.
    page.goto(base + "/trails/")
    assert len(outbox(page)) == 1 and submissions(report_form) == 0


def test_switching_the_site_off_deletes_the_outbox_with_what_readers_typed(
    page, trail_site, report_form
):
    base = trail_site["url"]
    send_offline(page, base, "Below the ridge")
    assert [record["state"] for record in outbox(page)] == ["queued"]
    offline_settings = OfflineSettings.for_site(trail_site["site"])
    offline_settings.enabled = False
    offline_settings.save()

    # Back online, the next page removes the worker, its caches and the outbox: nothing
    # would ever send what is in it. (The old worker may still send it on that last online
    # navigation, before the switched-off one takes over: once, never twice.)
    page.context.set_offline(False)
    page.goto(base + "/trails/")
    databases = """async () => (await indexedDB.databases()).map((db) => db.name)"""
    wait_until(
        lambda: "wagtail-offline" not in page.evaluate(databases),
        message="the outbox to be deleted",
    )
    assert not page.evaluate(
        "async () => (await caches.keys()).filter((n) => n.startsWith('wagtail-offline'))"
    )
    assert submissions(report_form) <= 1


def test_a_send_that_finds_the_network_still_down_is_tried_again(
    page, trail_site, report_form
):
    """The network comes back in steps: the page's "online" event can come before the
    worker's first request gets through. The open page asks again; nothing else happens."""
    base = trail_site["url"]
    network_back, refused = [False], []

    def refuse_the_first_token_request(route):
        if network_back[0] and not refused:
            refused.append(route.request.url)
            return route.abort("internetdisconnected")
        return route.continue_()

    page.context.route("**/offline/csrf-token/", refuse_the_first_token_request)
    send_offline(page, base, "Below the ridge")
    network_back[0] = True
    page.context.set_offline(False)

    def sent():
        page.wait_for_timeout(100)  # Lets Playwright run the route handler meanwhile.
        return submissions(report_form) == 1

    wait_until(sent, message="the form to be sent")
    # The worker deletes its copy once it has read the server's answer.
    wait_until(lambda: outbox(page) == [], message="the outbox to be emptied")
    assert len(refused) == 1
    assert submissions(report_form) == 1
