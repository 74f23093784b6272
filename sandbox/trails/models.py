"""A walking-trail guide: the pages walkers need where there is no phone signal."""

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.functional import cached_property
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.forms.models import AbstractEmailForm, AbstractFormField
from wagtail.contrib.forms.panels import FormSubmissionsPanel
from wagtail.fields import RichTextField
from wagtail.models import Orderable, Page

from wagtail_offline.models import OfflineFormMixin, OfflinePageMixin
from wagtail_offline.selection import offline_pages


class OfflineBadgeMixin:
    """Tells the templates whether readers get this page offline, for the badge."""

    @cached_property
    def is_private(self):
        return self.get_view_restrictions().exists()

    @cached_property
    def saved_offline(self):
        # Asks the plugin, so the badge follows exactly the rule that fills the manifest.
        site = self.get_site()
        return bool(site) and offline_pages(site).filter(pk=self.pk).exists()


class HomePage(Page):
    intro = RichTextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types = ["trails.TrailIndexPage", "trails.InfoPage", "trails.ReportPage"]

    def featured_trails(self):
        return TrailPage.objects.descendant_of(self).live().public().order_by("path")


class TrailIndexPage(OfflineBadgeMixin, OfflinePageMixin, Page):
    intro = RichTextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    promote_panels = Page.promote_panels + OfflinePageMixin.offline_panels
    subpage_types = ["trails.TrailPage", "trails.InfoPage", "trails.ConditionsPage"]

    def trails(self):
        return TrailPage.objects.child_of(self).live().public().order_by("distance_km")

    def info_pages(self):
        """Other pages in the section, private ones included: the template marks them."""
        return InfoPage.objects.child_of(self).live().order_by("path")


class TrailPage(OfflineBadgeMixin, OfflinePageMixin, Page):
    class Difficulty(models.TextChoices):
        EASY = "easy", "Easy"
        MODERATE = "moderate", "Moderate"
        HARD = "hard", "Hard"

    summary = models.CharField(
        max_length=255, blank=True, help_text="One sentence for the trail lists."
    )
    distance_km = models.DecimalField("distance (km)", max_digits=5, decimal_places=1)
    ascent_m = models.PositiveIntegerField("ascent (m)", default=0)
    difficulty = models.CharField(max_length=10, choices=Difficulty.choices)
    directions = RichTextField(blank=True, help_text="Turn-by-turn directions.")
    map_image = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    photo = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name="lead photo",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    content_panels = Page.content_panels + [
        FieldPanel("summary"),
        FieldPanel("distance_km"),
        FieldPanel("ascent_m"),
        FieldPanel("difficulty"),
        FieldPanel("directions"),
        FieldPanel("map_image"),
        FieldPanel("photo"),
        InlinePanel("gallery_photos", label="Photo gallery"),
    ]
    promote_panels = Page.promote_panels + OfflinePageMixin.offline_panels
    parent_page_types = ["trails.TrailIndexPage"]
    subpage_types = ["trails.InfoPage"]


class TrailPhoto(Orderable):
    page = ParentalKey(
        TrailPage, on_delete=models.CASCADE, related_name="gallery_photos"
    )
    image = models.ForeignKey(
        "wagtailimages.Image", on_delete=models.CASCADE, related_name="+"
    )
    caption = models.CharField(max_length=255, blank=True)

    panels = [FieldPanel("image"), FieldPanel("caption")]


class InfoPage(OfflineBadgeMixin, OfflinePageMixin, Page):
    body = RichTextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("body")]
    promote_panels = Page.promote_panels + OfflinePageMixin.offline_panels


class ConditionsPage(OfflinePageMixin, Page):
    """Today's weather on the tops, from a forecast service the demo deliberately lacks.

    Its template fails to render, so the offline pages report has a failure to show.
    """

    intro = RichTextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    promote_panels = Page.promote_panels + OfflinePageMixin.offline_panels
    parent_page_types = ["trails.TrailIndexPage"]
    subpage_types = []

    def forecast(self):
        raise ImproperlyConfigured(
            "No forecast service is set up (the demo has none): "
            "TRAILS_FORECAST_URL is missing."
        )


class ReportFormField(AbstractFormField):
    page = ParentalKey(
        "ReportPage", on_delete=models.CASCADE, related_name="form_fields"
    )


class ReportPage(
    OfflineBadgeMixin, OfflineFormMixin, OfflinePageMixin, AbstractEmailForm
):
    """ "Report a path problem": walkers find a fallen wall or a washed-out bridge where
    there is no signal, so a report sent offline is kept and sent once they are back in range.
    """

    intro = RichTextField(blank=True)
    thank_you_text = RichTextField(blank=True)

    content_panels = AbstractEmailForm.content_panels + [
        FormSubmissionsPanel(),
        FieldPanel("intro"),
        InlinePanel("form_fields", label="Form fields"),
        FieldPanel("thank_you_text"),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("from_address"), FieldPanel("to_address")]),
                FieldPanel("subject"),
            ],
            heading="Email",
        ),
    ]
    promote_panels = Page.promote_panels + OfflinePageMixin.offline_panels
    settings_panels = Page.settings_panels + OfflineFormMixin.offline_form_panels
    parent_page_types = ["trails.HomePage"]
    subpage_types = []
