from django.db import models
from modelcluster.fields import ParentalKey
from wagtail.contrib.forms.models import AbstractEmailForm, AbstractFormField
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField
from wagtail.models import Page

from wagtail_offline.models import OfflineFormMixin, OfflinePageMixin


class StandardPage(OfflinePageMixin, Page):
    body = RichTextField(blank=True)
    image = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    promote_panels = Page.promote_panels + OfflinePageMixin.offline_panels


class PlainPage(Page):
    """A page type without the mixin: never offline by itself, but can be under a flagged section."""


class FormField(AbstractFormField):
    page = ParentalKey("FormPage", on_delete=models.CASCADE, related_name="form_fields")


class FormPage(OfflineFormMixin, OfflinePageMixin, AbstractEmailForm):
    promote_panels = Page.promote_panels + OfflinePageMixin.offline_panels
    settings_panels = AbstractEmailForm.settings_panels + (
        OfflineFormMixin.offline_form_panels
    )


class EventsPage(RoutablePageMixin, OfflinePageMixin, Page):
    """A routable page: its sub-routes are offline through ``get_offline_urls``."""

    promote_panels = Page.promote_panels + OfflinePageMixin.offline_panels

    @path("")
    def upcoming(self, request):
        return self.render(request, context_overrides={"listing": "upcoming"})

    @path("past/")
    def past(self, request):
        return self.render(request, context_overrides={"listing": "past"})

    def get_offline_urls(self, request=None):
        urls = super().get_offline_urls(request)
        if not urls:
            return urls
        return urls + [{"location": urls[0]["location"] + self.reverse_subpage("past")}]
