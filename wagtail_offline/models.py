import json
import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connections, models, router
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.models import Site

from .compat import PAGE_MODEL


class OfflinePageMixin(models.Model):
    """Lets editors make a page (and optionally its subpages) available offline.

    Add ``OfflinePageMixin.offline_panels`` to the page's ``promote_panels``.
    """

    offline_available = models.BooleanField(
        verbose_name=_("available offline"),
        default=False,
        help_text=_(
            "Readers who have visited this site can read this page without a network."
        ),
    )
    offline_include_subpages = models.BooleanField(
        verbose_name=_("also make its subpages available offline"),
        default=False,
        help_text=_(
            "Every published, public page below this one is available offline too."
        ),
    )

    offline_panels = [
        MultiFieldPanel(
            [
                FieldPanel("offline_available"),
                FieldPanel("offline_include_subpages"),
            ],
            heading=_("Offline"),
        )
    ]

    class Meta:
        abstract = True

    def get_offline_urls(self, request=None):
        """Paths to precache for this page, shaped like ``get_sitemap_urls``.

        Override to add sub-routes (for example of a ``RoutablePageMixin`` page);
        each item is a dict with a ``location`` relative to the site root.
        """
        url = self.get_url(request=request, current_site=None)
        return [{"location": url}] if url else []


@register_setting(icon="download")
class OfflineSettings(BaseSiteSetting):
    enabled = models.BooleanField(
        verbose_name=_("enabled"),
        default=True,
        help_text=_(
            "Untick to switch offline reading off for this site: readers' browsers "
            "then remove everything they saved."
        ),
    )
    fallback_page = models.ForeignKey(
        PAGE_MODEL,
        verbose_name=_("offline fallback page"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_(
            "What readers see when they are offline and open a page that was not "
            "saved. Leave empty for a built-in message."
        ),
    )

    include_documents = models.BooleanField(
        verbose_name=_("include linked documents"),
        default=False,
        help_text=_(
            "Documents (PDFs and others) linked from offline pages are saved too. "
            "Documents in private collections never are."
        ),
    )
    network_timeout = models.FloatField(
        verbose_name=_("network timeout (seconds)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0.5), MaxValueValidator(60)],
        help_text=_(
            "How long a reader's browser waits for a slow network before showing the "
            "saved copy of a page. Leave empty for the site default (3 seconds)."
        ),
    )
    persistent_storage = models.BooleanField(
        verbose_name=_("ask for persistent storage"),
        default=False,
        help_text=_(
            "Ask readers' browsers not to evict saved pages when storage runs low. "
            "Some browsers ask the reader for permission."
        ),
    )

    panels = [
        FieldPanel("enabled"),
        FieldPanel("fallback_page"),
        FieldPanel("include_documents"),
        FieldPanel("network_timeout"),
        FieldPanel("persistent_storage"),
    ]

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        OfflineServingState.bump()

    class Meta:
        verbose_name = _("offline reading")


class OfflineManifest(models.Model):
    """What a site's readers can hold offline: every URL with its revision.

    Written only by the background task; read by the views that serve the worker.
    """

    site = models.OneToOneField(
        Site, on_delete=models.CASCADE, related_name="+", primary_key=True
    )
    version = models.CharField(max_length=64)
    # [{"url": "/trails/", "revision": "…", "size": 1234, "kind": "page", "critical": False}]
    entries = models.JSONField(default=list)
    # [{"url": "/broken/", "page_id": 3, "message": "…"}]
    problems = models.JSONField(default=list)
    # Fingerprint of the static files the entries were built from; a deploy changes it.
    static_fingerprint = models.CharField(max_length=64, blank=True)
    # The JSON that readers' workers download, serialised once when the manifest is stored.
    payload = models.TextField(blank=True, editable=False)
    built_at = models.DateTimeField(auto_now=True)

    WORKER_FIELDS = ("url", "revision", "size", "kind", "critical")

    class Meta:
        verbose_name = _("offline manifest")

    def __str__(self):
        return f"{self.site} @ {self.version}"

    def save(self, *args, **kwargs):
        self.payload = self.serialise_for_worker()
        super().save(*args, **kwargs)
        OfflineServingState.bump()

    def serialise_for_worker(self):
        entries = [
            {field: entry[field] for field in self.WORKER_FIELDS}
            for entry in self.entries
        ]
        return json.dumps(
            {"version": self.version, "entries": entries}, separators=(",", ":")
        )

    @property
    def size(self):
        return sum(entry["size"] for entry in self.entries)


class OfflinePageSnapshot(models.Model):
    """The last anonymous render of one offline page: its revision and the assets it loads.

    Kept so that a publish re-renders only the pages it affects.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    page = models.ForeignKey(PAGE_MODEL, on_delete=models.CASCADE, related_name="+")
    url = models.CharField(max_length=2048)
    revision = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    asset_urls = models.JSONField(default=list)
    error = models.TextField(blank=True)
    rendered_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["site", "page", "url"], name="unique_offline_snapshot"
            )
        ]

    def __str__(self):
        return self.url


class OfflineServingState(models.Model):
    """One row whose generation changes with anything /sw.js serves: manifests, settings, sites.

    Every app process reads it on each request (one primary-key look-up) and keys what it
    caches by it, so a change stored by any process is served by all of them at once.
    Bumped in the transaction that makes the change: it is seen exactly when the change is.
    """

    generation = models.CharField(max_length=32)

    ROW = 1

    class Meta:
        verbose_name = _("offline serving state")

    def __str__(self):
        return self.generation

    @classmethod
    def current(cls):
        # Plain SQL: on every /sw.js request, the ORM's query building would cost more.
        connection = connections[router.db_for_read(cls)]
        quote = connection.ops.quote_name
        sql = (
            f"SELECT {quote('generation')} FROM {quote(cls._meta.db_table)} "
            f"WHERE {quote(cls._meta.pk.column)} = %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [cls.ROW])
            row = cursor.fetchone()
        return row[0] if row else ""

    @classmethod
    def bump(cls):
        generation = uuid.uuid4().hex
        # The migration made the row; update_or_create only if someone deleted it.
        if not cls.objects.filter(pk=cls.ROW).update(generation=generation):
            cls.objects.update_or_create(
                pk=cls.ROW, defaults={"generation": generation}
            )
