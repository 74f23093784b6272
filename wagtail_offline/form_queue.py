"""Form submissions that readers sent offline, received once each when their browser is back online.

The worker replays a queued submission to ``form_submission`` with the idempotency key
it chose when the reader sent the form; the key is stored in the transaction that
stores the submission, so a replay whose answer was lost is recognised, never stored twice.
"""

import re

from django.db import IntegrityError, transaction
from django.http import Http404, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from wagtail.contrib.forms.models import FormMixin
from wagtail.models import Page, get_page_models

from .models import OfflineFormMixin, OfflineFormSubmission
from .schema import tables_ready
from .selection import in_site, not_expired
from .site_lookup import find_site

# The worker sends a UUID; anything else of a sane length and alphabet is accepted too.
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9-]{8,64}")

# Above this many pages, list the few opted-in forms rather than ask about each page.
FORM_PAGES_BY_ID = 500


def queues_submissions(page):
    """Whether readers' browsers may queue submissions of ``page`` (a specific page) offline."""
    return (
        isinstance(page, OfflineFormMixin)
        and isinstance(page, FormMixin)
        and page.offline_queue_submissions
    )


def queued_form_models():
    """The page models whose submissions can be queued: form pages with the mixin."""
    return [
        model
        for model in get_page_models()
        if issubclass(model, OfflineFormMixin)
        and issubclass(model, FormMixin)
        and not model._meta.abstract
    ]


def form_submit_urls(page_ids):
    """{page id: submission URL} for those of ``page_ids`` whose forms readers may queue.

    One query per form page model, whatever the number of pages.
    """
    page_ids = set(page_ids)
    opted_in = set()
    for model in queued_form_models():
        if not page_ids:
            break
        queued = model.objects.filter(offline_queue_submissions=True)
        if len(page_ids) <= FORM_PAGES_BY_ID:
            queued = queued.filter(pk__in=page_ids)
        # Else every opted-in form: a few rows, where 10,000 ids cost a slow query.
        opted_in.update(queued.values_list("pk", flat=True))
    return {
        page_id: reverse("wagtail_offline:form_submission", args=[page_id])
        for page_id in opted_in & page_ids
    }


def _answer(status, **data):
    response = JsonResponse(data, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _form_page_or_404(request, page_id):
    """The live, public, unexpired form page of the request's site that queues submissions."""
    site = find_site(request) if tables_ready() else None
    if site is None:
        raise Http404(_("No site matches this host."))
    page = (
        Page.objects.live()
        .public()
        .filter(in_site(site), not_expired(), pk=page_id)
        .first()
    )
    page = page and page.specific
    if page is None or not queues_submissions(page):
        raise Http404(_("This form does not take submissions sent offline."))
    return page


def already_stored(page, key):
    """Whether a submission of ``page`` with this idempotency key was stored."""
    return OfflineFormSubmission.objects.filter(page=page, key=key).exists()


def form_errors(form):
    """The form's errors as {field name: [message, …]}, non-field errors under ``__all__``."""
    return {
        field: [str(message) for message in messages]
        for field, messages in form.errors.items()
    }


@require_POST
def form_submission(request, page_id):
    """A form submission a reader's browser queued offline, sent now with its idempotency key."""
    key = request.headers.get("Idempotency-Key", "")
    if not IDEMPOTENCY_KEY.fullmatch(key):
        return _answer(
            400,
            state="rejected",
            message=_(
                "The submission has no valid Idempotency-Key header (8 to 64 "
                "letters, digits and hyphens)."
            ),
        )
    page = _form_page_or_404(request, page_id)
    title = page.title
    if already_stored(page, key):
        return _already_sent(title)
    with transaction.atomic():
        try:
            # A savepoint: the same key sent at once by two tabs fails here, not later.
            with transaction.atomic():
                record = OfflineFormSubmission.objects.create(page=page, key=key)
        except IntegrityError:
            return _already_sent(title)
        form = page.get_form(request.POST, request.FILES, page=page, user=request.user)
        if not form.is_valid():
            # The key is released: the reader may correct the form and send it again.
            transaction.set_rollback(True)
            return _answer(
                422,
                state="rejected",
                message=_(
                    "“%(title)s” was not sent: the site did not accept what was "
                    "filled in. Please correct it and send it again."
                )
                % {"title": title},
                errors=form_errors(form),
            )
        submission = page.process_form_submission(form)
        record.submission_id = getattr(submission, "pk", None)
        record.save(update_fields=["submission_id"])
    return _answer(
        201,
        state="sent",
        message=_("“%(title)s” was sent.") % {"title": title},
    )


def _already_sent(title):
    return _answer(
        200,
        state="sent",
        duplicate=True,
        message=_("“%(title)s” had already been sent.") % {"title": title},
    )
