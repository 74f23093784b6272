from django.db import models
from wagtail.contrib.forms.models import AbstractEmailForm, AbstractFormField
from wagtail.fields import RichTextField
from wagtail.models import Page
from modelcluster.fields import ParentalKey

from wagtail_offline.models import OfflinePageMixin


class StandardPage(OfflinePageMixin, Page):
    body = RichTextField(blank=True)
    image = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    promote_panels = Page.promote_panels + OfflinePageMixin.offline_panels


class PlainPage(Page):
    """A page type without the mixin: never offline by itself, but can be under a flagged section."""


class FormField(AbstractFormField):
    page = ParentalKey("FormPage", on_delete=models.CASCADE, related_name="form_fields")


class FormPage(OfflinePageMixin, AbstractEmailForm):
    promote_panels = Page.promote_panels + OfflinePageMixin.offline_panels
