"""A walking-trail guide: the pages walkers need where there is no phone signal."""

from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Page

from wagtail_offline.models import OfflinePageMixin


class HomePage(Page):
    intro = RichTextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    subpage_types = ["trails.TrailIndexPage", "trails.InfoPage"]


class TrailIndexPage(OfflinePageMixin, Page):
    intro = RichTextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("intro")]
    promote_panels = Page.promote_panels + OfflinePageMixin.offline_panels
    subpage_types = ["trails.TrailPage", "trails.InfoPage"]

    def trails(self):
        return TrailPage.objects.child_of(self).live().public().order_by("distance_km")


class TrailPage(OfflinePageMixin, Page):
    class Difficulty(models.TextChoices):
        EASY = "easy", "Easy"
        MODERATE = "moderate", "Moderate"
        HARD = "hard", "Hard"

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
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    content_panels = Page.content_panels + [
        FieldPanel("distance_km"),
        FieldPanel("ascent_m"),
        FieldPanel("difficulty"),
        FieldPanel("directions"),
        FieldPanel("map_image"),
        FieldPanel("photo"),
    ]
    promote_panels = Page.promote_panels + OfflinePageMixin.offline_panels
    parent_page_types = ["trails.TrailIndexPage"]
    subpage_types = ["trails.InfoPage"]


class InfoPage(OfflinePageMixin, Page):
    body = RichTextField(blank=True)

    content_panels = Page.content_panels + [FieldPanel("body")]
    promote_panels = Page.promote_panels + OfflinePageMixin.offline_panels
