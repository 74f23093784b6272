"""Forms sent offline: replayed to /offline/forms/<id>/ and stored exactly once."""

import threading
import time
from datetime import timedelta

import pytest
from django import forms
from django.core.checks import WARNING, run_checks
from django.db import connection
from django.test import Client
from django.test.utils import isolate_apps
from django.utils import timezone
from wagtail.contrib.forms.models import FormSubmission
from wagtail.models import Page, Site
from wagtail.models import pages as wagtail_pages

from tests.factories import (
    FormFieldFactory,
    FormPageFactory,
    StandardPageFactory,
    restrict_with_password,
)
from tests.served import served_manifest
from tests.testapp.models import FormPage
from wagtail_offline import form_queue
from wagtail_offline.form_queue import form_submit_urls
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.models import OfflineFormMixin, OfflineFormSubmission

KEY = "3f1c2a9e-5b7d-4c1e-9a2b-7e6f5d4c3b2a"
TIMEOUT = 30


def make_form(parent, slug="contact", **kwargs):
    page = FormPageFactory(
        parent=parent, title="Report a path problem", slug=slug, **kwargs
    )
    FormFieldFactory(page=page, label="Your name")
    FormFieldFactory(page=page, label="Email", field_type="email", required=False)
    return page


@pytest.fixture
def form(home):
    return make_form(home)


@pytest.fixture
def reader():
    """A browser as the worker is one: CSRF checked, with a token from /offline/csrf-token/."""
    return Client(enforce_csrf_checks=True)


def send(client, page_id, data, key=KEY, **headers):
    token = client.get("/offline/csrf-token/").json()["token"]
    headers = {"X-CSRFToken": token, **headers}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(f"/offline/forms/{page_id}/", data, headers=headers)


GOOD = {"your_name": "Ada", "email": "ada@example.com"}


@pytest.mark.django_db
def test_a_queued_submission_is_stored_once_with_its_key(reader, form):
    response = send(reader, form.pk, GOOD)
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {
        "state": "sent",
        "message": "“Report a path problem” was sent.",
    }
    [submission] = FormSubmission.objects.filter(page=form)
    assert submission.get_data()["your_name"] == "Ada"
    record = OfflineFormSubmission.objects.get(page=form, key=KEY)
    assert record.submission_id == submission.pk


@pytest.mark.django_db
def test_the_same_key_sent_again_is_a_duplicate_not_a_second_submission(reader, form):
    assert send(reader, form.pk, GOOD).status_code == 201
    again = send(reader, form.pk, {**GOOD, "your_name": "Ada, again"})
    assert again.status_code == 200
    assert again.json()["state"] == "sent" and again.json()["duplicate"] is True
    assert FormSubmission.objects.filter(page=form).count() == 1
    # Another key is another submission.
    other = send(reader, form.pk, GOOD, key="another-key-0001")
    assert other.status_code == 201
    assert FormSubmission.objects.filter(page=form).count() == 2


@pytest.mark.django_db
def test_a_rejected_submission_says_why_and_keeps_nothing(reader, form):
    response = send(reader, form.pk, {"your_name": "", "email": "not an address"})
    assert response.status_code == 422
    body = response.json()
    assert body["state"] == "rejected"
    assert "“Report a path problem” was not sent" in body["message"]
    assert body["errors"] == {
        "your_name": ["This field is required."],
        "email": ["Enter a valid email address."],
    }
    assert not FormSubmission.objects.exists()
    # The key was released with the rest: corrected, the same submission goes through.
    assert not OfflineFormSubmission.objects.exists()
    assert send(reader, form.pk, GOOD).status_code == 201


@pytest.mark.django_db
def test_non_field_errors_are_sent_under_all(reader, form, monkeypatch):
    def refuse(self):
        raise forms.ValidationError("Too many reports today.")

    form_class = form.get_form_class()
    monkeypatch.setattr(form_class, "clean", refuse)
    monkeypatch.setattr(FormPage, "get_form_class", lambda self: form_class)
    response = send(reader, form.pk, GOOD)
    assert response.status_code == 422
    assert response.json()["errors"] == {"__all__": ["Too many reports today."]}


@pytest.mark.django_db
def test_a_form_page_that_does_not_queue_submissions_is_404(reader, home, form):
    page = make_form(home, slug="login-help", offline_queue_submissions=False)
    assert send(reader, page.pk, GOOD).status_code == 404
    assert send(reader, form.pk, GOOD).status_code == 201
    assert not FormSubmission.objects.filter(page=page).exists()
    assert not OfflineFormSubmission.objects.filter(page=page).exists()


@pytest.mark.django_db
def test_a_page_that_is_not_a_form_is_404(reader, home, form):
    page = StandardPageFactory(parent=home, slug="about")
    assert send(reader, page.pk, GOOD).status_code == 404
    assert send(reader, form.pk, GOOD).status_code == 201
    assert not OfflineFormSubmission.objects.filter(page=page).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "state", ["unpublished", "private", "in a private section", "expired"]
)
def test_a_form_that_readers_cannot_see_is_404(reader, home, state):
    section = StandardPageFactory(parent=home, slug="members")
    page = make_form(section if state == "in a private section" else home)
    assert send(reader, page.pk, GOOD, key="while-public-1").status_code == 201
    if state == "unpublished":
        page.unpublish()
    elif state == "private":
        restrict_with_password(page)
    elif state == "in a private section":
        restrict_with_password(section)
    else:
        Page.objects.filter(pk=page.pk).update(
            expire_at=timezone.now() - timedelta(minutes=1)
        )
    assert send(reader, page.pk, GOOD).status_code == 404
    assert FormSubmission.objects.count() == 1


@pytest.mark.django_db
def test_a_form_of_another_site_is_404_on_this_one(reader, home, root_page, form):
    other_home = StandardPageFactory(parent=root_page, slug="other-home")
    Site.objects.create(hostname="other.example", port=80, root_page=other_home)
    other_form = make_form(other_home, slug="their-form")

    assert send(reader, other_form.pk, GOOD).status_code == 404
    assert send(reader, form.pk, GOOD, HOST="other.example").status_code == 404
    assert not FormSubmission.objects.exists()
    # Each site takes its own form.
    assert send(reader, other_form.pk, GOOD, HOST="other.example").status_code == 201


@pytest.mark.django_db
def test_without_a_csrf_token_the_submission_is_refused(form):
    reader = Client(enforce_csrf_checks=True)
    response = reader.post(
        f"/offline/forms/{form.pk}/", GOOD, headers={"Idempotency-Key": KEY}
    )
    assert response.status_code == 403
    assert not FormSubmission.objects.exists()
    assert not OfflineFormSubmission.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "key",
    [None, "", "short", "x" * 65, "has space-in-it", "émoji-key-1234", "key\n12345678"],
    ids=repr,
)
def test_a_missing_or_malformed_idempotency_key_is_400(reader, form, key):
    response = send(reader, form.pk, GOOD, key=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["message"]
    assert not FormSubmission.objects.exists()


@pytest.mark.django_db
def test_hostile_requests_are_4xx_never_500(reader, form, settings):
    assert send(reader, 99999999999999999999999, GOOD).status_code == 404
    assert send(reader, form.pk + 1000, GOOD).status_code == 404
    assert reader.get(f"/offline/forms/{form.pk}/").status_code == 405
    assert reader.get("/offline/forms/abc/").status_code == 404
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    crowded = {f"field{n}": "x" for n in range(50)}
    assert send(reader, form.pk, crowded).status_code == 400
    assert not FormSubmission.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_same_key_sent_at_once_twice_stores_one_submission(
    form, monkeypatch, django_db_blocker
):
    """The second request checks for the key before the first commits; only one is stored.

    Runs on SQLite by default and on PostgreSQL with WAGTAIL_OFFLINE_TEST_POSTGRES.
    """
    first_inside, second_checked = threading.Event(), threading.Event()
    process = FormPage.process_form_submission

    def held_process(self, submitted_form):
        # The first request holds its key row, uncommitted, until the second has looked.
        first_inside.set()
        assert second_checked.wait(TIMEOUT)
        time.sleep(0.2)  # Time for the second to reach its insert, which must wait.
        return process(self, submitted_form)

    already_stored = form_queue.already_stored

    def watched_already_stored(page, key):
        stored = already_stored(page, key)
        if threading.current_thread().name == "second":
            second_checked.set()
        return stored

    monkeypatch.setattr(FormPage, "process_form_submission", held_process)
    monkeypatch.setattr(form_queue, "already_stored", watched_already_stored)
    statuses, errors = {}, []

    def post(name):
        try:
            response = Client().post(
                f"/offline/forms/{form.pk}/", GOOD, headers={"Idempotency-Key": KEY}
            )
            statuses[name] = response.status_code
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    first = threading.Thread(target=post, args=("first",), name="first")
    second = threading.Thread(target=post, args=("second",), name="second")
    first.start()
    assert first_inside.wait(TIMEOUT)
    second.start()
    for thread in (first, second):
        thread.join(TIMEOUT)
        assert not thread.is_alive()
    assert not errors
    assert statuses == {"first": 201, "second": 200}
    assert FormSubmission.objects.filter(page=form).count() == 1
    assert OfflineFormSubmission.objects.get(key=KEY).submission_id is not None


# ---------- The manifest ----------


@pytest.mark.django_db
def test_the_manifest_tells_the_worker_where_to_send_opted_in_forms(client, site, home):
    form = make_form(home, offline_available=True)
    no_queue = make_form(
        home, slug="login-help", offline_available=True, offline_queue_submissions=False
    )
    StandardPageFactory(parent=home, slug="about", offline_available=True)
    manifest = rebuild_site_manifest(site)

    entries = {entry["url"]: entry for entry in manifest.entries}
    assert entries["/contact/"]["formSubmitUrl"] == f"/offline/forms/{form.pk}/"
    assert "formSubmitUrl" not in entries["/login-help/"]
    assert "formSubmitUrl" not in entries["/about/"]
    served = served_manifest(client, manifest.version)
    worker_entries = {e["url"]: e for e in served["entries"]}
    assert worker_entries["/contact/"]["formSubmitUrl"] == f"/offline/forms/{form.pk}/"
    assert "formSubmitUrl" not in worker_entries["/login-help/"]

    # Opting out is read at the next build: the URL goes, and the version changes.
    FormPage.objects.filter(pk=form.pk).update(offline_queue_submissions=False)
    rebuilt = rebuild_site_manifest(site)
    assert "formSubmitUrl" not in {e["url"]: e for e in rebuilt.entries}["/contact/"]
    assert rebuilt.version != manifest.version
    assert no_queue.pk not in form_submit_urls([form.pk, no_queue.pk])


@pytest.mark.django_db
def test_form_submit_urls_are_read_in_one_query_whatever_the_pages(
    home, django_assert_num_queries
):
    forms = [make_form(home, slug=f"form-{n}") for n in range(5)]
    with django_assert_num_queries(1):
        urls = form_submit_urls(page.pk for page in forms)
    assert urls == {page.pk: f"/offline/forms/{page.pk}/" for page in forms}


@pytest.mark.django_db
def test_form_submit_urls_for_many_pages_name_only_the_pages_asked_about(
    home, monkeypatch
):
    # Past the threshold every opted-in form is read: the answer must not change.
    asked = [make_form(home, slug=f"asked-{n}") for n in range(3)]
    other = make_form(home, slug="not-asked")
    opted_out = make_form(home, slug="opted-out")
    FormPage.objects.filter(pk=opted_out.pk).update(offline_queue_submissions=False)
    page_ids = [page.pk for page in asked] + [opted_out.pk]
    by_id = form_submit_urls(page_ids)
    monkeypatch.setattr("wagtail_offline.form_queue.FORM_PAGES_BY_ID", 2)
    assert form_submit_urls(page_ids) == by_id
    assert set(by_id) == {page.pk for page in asked}
    assert other.pk not in by_id


@pytest.mark.django_db
def test_the_queued_page_is_a_critical_entry_that_tells_the_reader(client, site):
    manifest = rebuild_site_manifest(site)
    [queued] = [e for e in manifest.entries if e["kind"] == "queued"]
    assert queued["url"] == "/offline/queued/" and queued["critical"] is True
    assert not [p for p in manifest.problems if p["url"] == "/offline/queued/"]

    response = client.get("/offline/queued/")
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        "Your form is saved on this device and will be sent when you are back online."
        in html
    )
    assert "<script>" not in html and "style=" not in html


# ---------- The system check ----------


@isolate_apps("tests.testapp")
def test_the_form_mixin_on_a_page_that_is_not_a_form_is_a_warning(monkeypatch):
    # A page model of this test only: Wagtail's list of page models is restored after it.
    monkeypatch.setattr(
        wagtail_pages, "PAGE_MODEL_CLASSES", list(wagtail_pages.PAGE_MODEL_CLASSES)
    )

    class NewsPage(OfflineFormMixin, Page):
        class Meta:
            app_label = "testapp"

    # The test app's FormPage has the mixin too, and is a form page: no warning.
    [warning] = [e for e in run_checks() if e.id == "wagtail_offline.W006"]
    assert warning.level == WARNING
    assert warning.obj is NewsPage
    assert "testapp.NewsPage has OfflineFormMixin but is not a Wagtail form page" in (
        warning.msg
    )
    assert "AbstractForm" in warning.hint
