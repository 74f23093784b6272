import json
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
)
from django.db import connections, models, router, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.images import get_image_model_string
from wagtail.models import Orderable, Site

from . import manifest_parts
from .compat import PAGE_MODEL
from .forms import OfflineSettingsForm
from .panels import OfflineStatusPanel

# What a site may ask readers' browsers to keep, by default: see docs/admin.md.
DEFAULT_STORAGE_BUDGET_MB = 50

colour_validator = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", _("Enter a colour as # and six hexadecimal digits.")
)


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
                OfflineStatusPanel(),
                FieldPanel("offline_available"),
                FieldPanel("offline_include_subpages"),
            ],
            heading=_("Offline"),
        )
    ]

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        # Refused rather than implied: an editor unticking "Available offline" must not
        # find the page still offline because of the other box.
        if self.offline_include_subpages and not self.offline_available:
            raise ValidationError(
                {
                    "offline_include_subpages": _(
                        "Subpages can only be made available offline with the page "
                        "itself: tick “Available offline” too, or untick this."
                    )
                }
            )

    def get_offline_urls(self, request=None):
        """Paths to precache for this page, shaped like ``get_sitemap_urls``.

        Override to add sub-routes (for example of a ``RoutablePageMixin`` page);
        each item is a dict with a ``location`` relative to the site root.
        """
        url = self.get_url(request=request, current_site=None)
        return [{"location": url}] if url else []


class OfflineFormMixin(models.Model):
    """Lets a form page (``wagtail.contrib.forms``) keep what readers send offline.

    A submission sent without a network is kept on the reader's device and sent once the
    browser is online again. Add ``OfflineFormMixin.offline_form_panels`` to the page's
    panels (for example its ``settings_panels``).
    """

    offline_queue_submissions = models.BooleanField(
        verbose_name=_("keep submissions sent offline"),
        default=True,
        help_text=_(
            "A reader who sends this form without a network has it kept on their "
            "device and sent, exactly once, when they are back online."
        ),
    )

    offline_form_panels = [FieldPanel("offline_queue_submissions")]

    class Meta:
        abstract = True


@register_setting(icon="download")
class OfflineSettings(ClusterableModel, BaseSiteSetting):
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

    storage_budget = models.PositiveIntegerField(
        verbose_name=_("storage budget (MB)"),
        default=DEFAULT_STORAGE_BUDGET_MB,
        validators=[MinValueValidator(1)],
        help_text=_(
            "How much this site may ask readers' browsers to keep, in megabytes. "
            "The offline pages report warns when the offline pages need more."
        ),
    )

    reader_saving = models.BooleanField(
        verbose_name=_("let readers save pages"),
        default=True,
        help_text=_(
            "Shows the “Save for offline” button, so that readers can keep any public "
            "page on their device."
        ),
    )
    recent_pages = models.PositiveSmallIntegerField(
        verbose_name=_("recently read pages kept"),
        default=0,
        validators=[MaxValueValidator(200)],
        help_text=_(
            "How many of the pages a reader last visited their browser keeps for "
            "reading offline. 0 keeps none."
        ),
    )
    recent_pages_days = models.PositiveSmallIntegerField(
        verbose_name=_("keep recently read pages for (days)"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("Recently read pages older than this are removed first."),
    )

    app_name = models.CharField(
        verbose_name=_("app name"),
        max_length=100,
        blank=True,
        help_text=_(
            "The name of the site when a reader adds it to their home screen. Leave "
            "empty for the site's name."
        ),
    )
    app_short_name = models.CharField(
        verbose_name=_("short app name"),
        max_length=12,
        blank=True,
        help_text=_(
            "Shown under the icon on a home screen. Leave empty for the app name."
        ),
    )
    app_icon = models.ForeignKey(
        get_image_model_string(),
        verbose_name=_("app icon"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_(
            "A square image, at least 512 × 512 pixels, for the home screen icon."
        ),
    )
    theme_color = models.CharField(
        verbose_name=_("theme colour"),
        max_length=7,
        default="#ffffff",
        validators=[colour_validator],
        help_text=_("The colour of the browser's toolbar, as #rrggbb."),
    )
    background_color = models.CharField(
        verbose_name=_("background colour"),
        max_length=7,
        default="#ffffff",
        validators=[colour_validator],
        help_text=_("The colour shown while the installed site opens, as #rrggbb."),
    )

    base_form_class = OfflineSettingsForm

    panels = [
        FieldPanel("enabled"),
        FieldPanel("fallback_page"),
        FieldPanel("include_documents"),
        FieldPanel("storage_budget"),
        FieldPanel("network_timeout"),
        FieldPanel("persistent_storage"),
        MultiFieldPanel(
            [
                FieldPanel("reader_saving"),
                FieldPanel("recent_pages"),
                FieldPanel("recent_pages_days"),
            ],
            heading=_("Readers' own pages"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("app_name"),
                FieldPanel("app_short_name"),
                FieldPanel("app_icon"),
                FieldPanel("theme_color"),
                FieldPanel("background_color"),
            ],
            heading=_("Home screen app"),
        ),
        InlinePanel(
            "extra_urls",
            heading=_("Other URLs to save offline"),
            label=_("URL"),
        ),
        InlinePanel(
            "bypass_prefixes",
            heading=_("Paths the service worker never touches"),
            label=_("Path prefix"),
        ),
    ]

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        OfflineServingState.bump()

    @property
    def storage_budget_bytes(self):
        return self.storage_budget * 1000 * 1000

    class Meta:
        verbose_name = _("offline reading")


class OfflineExtraURL(Orderable):
    """A URL of the site saved offline besides the pages: a route that is not a page, a static file."""

    settings = ParentalKey(
        OfflineSettings, on_delete=models.CASCADE, related_name="extra_urls"
    )
    url = models.CharField(
        verbose_name=_("URL"),
        max_length=2048,
        help_text=_(
            "A path of this site, such as /events/feed/ or /static/site/logo.svg. It "
            "must answer 200 to a visitor who is not logged in."
        ),
    )

    panels = [FieldPanel("url")]

    class Meta(Orderable.Meta):
        verbose_name = _("other URL to save offline")

    def __str__(self):
        return self.url


class OfflineBypassPrefix(Orderable):
    """A path prefix readers' service workers never intercept (added to the project's setting)."""

    settings = ParentalKey(
        OfflineSettings, on_delete=models.CASCADE, related_name="bypass_prefixes"
    )
    path = models.CharField(
        verbose_name=_("path prefix"),
        max_length=255,
        help_text=_(
            "Requests to paths that start with this, such as /api/ or /shop/basket/, "
            "always go to the network and are never saved offline."
        ),
    )

    panels = [FieldPanel("path")]

    class Meta(Orderable.Meta):
        verbose_name = _("path the service worker never touches")

    def __str__(self):
        return self.path


class OfflineManifest(models.Model):
    """What a site's readers can hold offline: every URL with its revision.

    Written only by the background task; read by the views that serve the worker. Its
    entries, and what uses each of them, are rows of their own (``OfflineManifestEntry``,
    ``OfflineManifestUse``): a publish rewrites only those it changed.
    """

    site = models.OneToOneField(
        Site, on_delete=models.CASCADE, related_name="+", primary_key=True
    )
    version = models.CharField(max_length=64)
    # [{"url": "/broken/", "page_id": 3, "message": "…", "level": "error"}]; "error" left
    # something out, "warning" shipped it with a flaw.
    problems = models.JSONField(default=list)
    # Fingerprint of the static files the entries were built from; a deploy changes it.
    static_fingerprint = models.CharField(max_length=64, blank=True)
    # What the worker needs besides the entries: {"fallbacks": [{"prefix": "/fr/", "url":
    # "/fr/hors-ligne/"}, …, {"prefix": "/", "url": …}]} (longest prefix first), and the
    # site's web app manifest under "appManifest" (served by its own view).
    extras = models.JSONField(default=dict, editable=False)
    # The root that readers' workers download at the manifest's URL, serialised once when
    # the manifest is stored; it leads to the indexes and parts (OfflineManifestPart).
    payload = models.TextField(blank=True, editable=False)
    # How many parts the entries are split into; kept from build to build (manifest_parts).
    part_count = models.PositiveIntegerField(default=0, editable=False)
    # The digest of each part, in part order: a publish rewrites those its entries are in.
    # Empty for a manifest whose parts were not recorded: the next build writes them all.
    part_digests = models.JSONField(default=list, editable=False)
    # What the assets' judgements depended on (the origin, the paths never saved offline,
    # the limits): a partial build reuses this manifest's revisions only while it holds.
    assembly_key = models.CharField(max_length=64, blank=True, editable=False)
    # What the build stored of each listing it precaches, with the key of what it showed
    # (``listing.render_key``): a publish that changes none of it renders it no more.
    listing_renders = models.JSONField(default=dict, editable=False)
    # The highest page id when the build looked for pages to render: pages added since
    # without a publish (an import, a script) are looked for by the next one.
    pages_seen_until = models.PositiveBigIntegerField(
        null=True, blank=True, editable=False
    )
    built_at = models.DateTimeField(default=timezone.now)

    WORKER_FIELDS = ("url", "revision", "size", "kind", "critical")
    # Entry fields only some entries carry (a form page's submission URL).
    OPTIONAL_WORKER_FIELDS = ("formSubmitUrl",)

    class Meta:
        verbose_name = _("offline manifest")

    def __init__(self, *args, **kwargs):
        # Entries and page summaries given whole (a preview, a tool): kept in memory until
        # saved. Stored manifests read theirs from the rows (manifest_store.py).
        self._entries = self._pages = None
        # The parts and indexes to store with it (digest -> JSON), and the digests it
        # led to before they were made: see manifest_rows.py.
        self._documents, self._led_to = {}, None
        super().__init__(*args, **kwargs)

    def __str__(self):
        return f"{self.site} @ {self.version}"

    def save(self, *args, **kwargs):
        from . import manifest_rows  # It writes the rows of these models.

        with transaction.atomic(using=router.db_for_write(OfflineManifestPart)):
            if self._entries is not None:  # Given whole: stored whole.
                manifest_rows.replace_entries(self, self._entries)
                self._entries = self._pages = None
            super().save(*args, **kwargs)
            current = self.documents()
            previous = current if self._led_to is None else self._led_to
            OfflineManifestPart.store(self.site_id, self._documents, current, previous)
        self._documents, self._led_to = {}, None
        OfflineServingState.bump()

    @property
    def entries(self):
        """Every entry as a list of dicts, by URL (see manifest_store.entries)."""
        from .manifest_store import entries  # It reads these models.

        return entries(self)

    @entries.setter
    def entries(self, entries):
        self._entries = list(entries)

    @property
    def pages(self):
        """The offline pages' summaries, by URL (see manifest_store.summaries)."""
        from .manifest_store import summaries

        return summaries(self)

    @pages.setter
    def pages(self, pages):
        self._pages = list(pages)

    def documents(self):
        """Digests of the parts and indexes the stored root leads to."""
        if not self.payload:
            return set(self.part_digests)
        indexes = json.loads(self.payload).get("indexes", [])
        return set(self.part_digests) | {
            url.rsplit("/", 1)[-1].removesuffix(".json") for url in indexes
        }

    @property
    def size(self):
        from .manifest_store import total_size  # It reads the models.

        return total_size(self)


def part_url_maker():
    """``part_url(digest)`` for ``manifest_parts``: the URL is reversed once, not once
    for each of a large site's thousands of parts."""
    placeholder = "0" * manifest_parts.DIGEST_LENGTH
    before, _, after = reverse(
        "wagtail_offline:manifest_part", args=[placeholder]
    ).rpartition(placeholder)
    return lambda digest: f"{before}{digest}{after}"


class OfflineManifestEntry(models.Model):
    """One URL of a site's manifest, as readers' workers fetch and keep it."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    url = models.CharField(max_length=2048)
    revision = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField(default=0)
    # "page", "fallback", "listing", "queued", "asset" or "document".
    kind = models.CharField(max_length=16)
    # Precached before the worker takes over: without it a reader sees an error page.
    critical = models.BooleanField(default=False)
    # Where a form page sends what a reader submitted offline.
    form_submit_url = models.CharField(max_length=2048, blank=True)
    # The page a page entry is a URL of (not a key: rows are rewritten by the next build).
    page_id = models.IntegerField(null=True, blank=True)
    # The part it is in (manifest_parts.bucket_of its group).
    part = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("offline manifest entry")
        constraints = [
            models.UniqueConstraint(
                fields=["site", "url"], name="wagtail_offline_entry_unique_url"
            )
        ]
        indexes = [
            models.Index(fields=["site", "part"], name="wagtail_offline_entry_part"),
            models.Index(fields=["site", "kind"], name="wagtail_offline_entry_kind"),
            models.Index(fields=["page_id"], name="wagtail_offline_entry_page"),
        ]

    def __str__(self):
        return self.url

    def as_worker_entry(self):
        entry = {field: getattr(self, field) for field in OfflineManifest.WORKER_FIELDS}
        if self.form_submit_url:
            entry["formSubmitUrl"] = self.form_submit_url
        return entry


class OfflineManifestUse(models.Model):
    """That ``user`` needs ``url``: directly or through a stylesheet.

    Users are the page-like entries (a page entry uses itself), the web app manifest and
    the settings' other URLs. An entry is kept while something uses it, in the part of
    its only user if it has one: so a publish replaces the uses of what it assembled
    again, and rewrites the entries whose users changed (manifest_rows.py).
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    user = models.CharField(max_length=2048)
    # The user's page, when it is one: a publish of that page replaces its uses.
    page_id = models.IntegerField(null=True, blank=True)
    # Whether the user is needed offline whatever a reader saved (the fallback, the listing).
    critical = models.BooleanField(default=False)
    url = models.CharField(max_length=2048)

    class Meta:
        verbose_name = _("offline manifest use")
        indexes = [
            models.Index(fields=["site", "url"], name="wagtail_offline_use_url"),
            # The critical users (the fallback, the listing) of a URL, among thousands.
            models.Index(
                fields=["site", "critical", "url"], name="wagtail_offline_use_critical"
            ),
            models.Index(fields=["site", "user"], name="wagtail_offline_use_user"),
            models.Index(fields=["site", "page_id"], name="wagtail_offline_use_page"),
        ]

    def __str__(self):
        return f"{self.user} uses {self.url}"


class OfflineManifestPart(models.Model):
    """An index or part of a site's manifest, at an immutable URL named by its digest.

    Kept while the site's current manifest leads to it, and for a day after, so that a
    worker that began its install from the previous manifest can finish it.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=manifest_parts.DIGEST_LENGTH)
    content = models.TextField()
    # When the current manifest stopped leading to it; None while it still does.
    used_at = models.DateTimeField(null=True, blank=True, db_index=True)

    KEPT_AFTER_USE = timedelta(days=1)

    class Meta:
        verbose_name = _("offline manifest part")
        constraints = [
            models.UniqueConstraint(
                fields=["site", "digest"], name="wagtail_offline_part_unique_digest"
            )
        ]

    def __str__(self):
        return self.digest

    @classmethod
    def write(cls, site_id, documents):
        """Inserts ``documents`` (digest -> JSON) not held yet, as current."""
        cls.objects.bulk_create(
            [
                cls(site_id=site_id, digest=digest, content=content, used_at=None)
                for digest, content in sorted(documents.items())
            ],
            ignore_conflicts=True,  # Held already, or another build stored it first.
        )

    @classmethod
    def store(cls, site_id, documents, current, previous):
        """Stores new ``documents`` (digest -> JSON, or None for one ``write`` stored
        already). ``current`` and ``previous``: the digests the manifest leads to now
        and did before; those it no longer leads to are kept a day."""
        now = timezone.now()
        cls.write(
            site_id,
            {digest: content for digest, content in documents.items() if content},
        )
        held = cls.objects.filter(site_id=site_id)
        again = sorted(set(documents) & set(current))
        for start in range(0, len(again), 500):
            # Led to again (an edit undone): current once more.
            held.filter(
                used_at__isnull=False, digest__in=again[start : start + 500]
            ).update(used_at=None)
        superseded = sorted(set(previous) - set(current))
        for start in range(0, len(superseded), 500):
            held.filter(digest__in=superseded[start : start + 500]).update(used_at=now)
        held.filter(used_at__lt=now - cls.KEPT_AFTER_USE).delete()


class OfflinePageSnapshot(models.Model):
    """The last anonymous render of one offline page: its revision and the assets it loads.

    Kept so that a publish re-renders only the pages it affects.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    page = models.ForeignKey(PAGE_MODEL, on_delete=models.CASCADE, related_name="+")
    url = models.CharField(max_length=2048)
    # What the page's URLs depended on when rendered: its place in the tree, and the
    # rest (manifest.paths_key_of). While both are the same, a build need not ask the
    # page for its URLs again.
    paths_key = models.CharField(max_length=64, blank=True)
    url_path = models.TextField(blank=True)
    revision = models.CharField(max_length=64, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    asset_urls = models.JSONField(default=list)
    error = models.TextField(blank=True)
    # Flaws of a page that still ships, such as a template without {% offline_head %}.
    warnings = models.JSONField(default=list)
    # When the render began (set by the build; what orders two renders of a page).
    rendered_at = models.DateTimeField(default=timezone.now)
    # Whether a stored manifest ships this render (or its problem): a publish assembles
    # again the pages of unshipped snapshots, which another build stored.
    shipped = models.BooleanField(default=False)
    # A hash of the line the listing shows for this URL, as the last build saw it
    # (listing.listed_line_hash); a publish adds them up instead of reading every page.
    listed_line = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["site", "page", "url"], name="unique_offline_snapshot"
            )
        ]
        indexes = [
            models.Index(
                fields=["site", "shipped"], name="wagtail_off_snap_shipped_idx"
            ),
            models.Index(
                fields=["site", "listed_line"], name="wagtail_off_snap_line_idx"
            ),
            models.Index(
                fields=["site", "paths_key"], name="wagtail_off_snap_paths_idx"
            ),
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


class OfflineRebuild(models.Model):
    """One rebuild asked for: pending until its task finishes, then kept as the last build.

    Lets the admin say "Being updated…" whatever the task backend, and show why the
    last build of a site failed.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    # The pages to re-render; None for every page.
    page_ids = models.JSONField(null=True, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("offline rebuild")
        ordering = ["-requested_at", "-pk"]

    def __str__(self):
        return f"{self.site} @ {self.requested_at}"

    @property
    def pending(self):
        return self.finished_at is None

    def covers(self, page_id):
        return self.page_ids is None or page_id in self.page_ids


class OfflineReaderPage(models.Model):
    """The anonymous render of a page a reader may save on their device, and what it needs.

    Rendered by a background task when a reader's browser first asks for the page (or
    when the page is published again); the views answer from it and never render.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    page = models.ForeignKey(PAGE_MODEL, on_delete=models.CASCADE, related_name="+")
    url = models.CharField(max_length=2048)
    # What the render was made from (the page's live revision); a publish changes it.
    source = models.CharField(max_length=64, blank=True)
    # The worker's entries for this page: the page itself first, then every asset it
    # needs, each with its revision: [{"url", "revision", "size", "kind"}].
    entries = models.JSONField(default=list)
    size = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    requested_at = models.DateTimeField(null=True, blank=True)
    rendered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("page readers can save")
        constraints = [
            models.UniqueConstraint(fields=["site", "url"], name="unique_reader_page")
        ]

    def __str__(self):
        return self.url


class OfflineFormSubmission(models.Model):
    """A form submission sent from a reader's offline queue, by its idempotency key.

    The key is stored in the transaction that stores the submission: the same
    submission sent again (a lost answer, two tabs) is recognised and not stored twice.
    """

    page = models.ForeignKey(PAGE_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    submission_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("offline form submission")
        constraints = [
            models.UniqueConstraint(
                fields=["page", "key"], name="unique_offline_form_submission"
            )
        ]

    def __str__(self):
        return self.key


class OfflineAssetRevision(models.Model):
    """The revision of a static or media file when a build last read it, and what told
    whether it may have changed since; a build reuses it instead of reading the file."""

    # A hash of the asset's URL: a URL may be longer than a database index allows.
    key = models.CharField(max_length=64, primary_key=True)
    url = models.TextField()
    # What the file was known by when read: its rendition, or its size and modification time.
    stamp = models.CharField(max_length=100)
    revision = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    # The URLs a stylesheet names, as written: they are found only when the file is read.
    stylesheet_urls = models.JSONField(default=list)
    # When a build last relied on it; rows no build relies on any more are pruned.
    used_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("offline asset revision")

    def __str__(self):
        return f"{self.url} @ {self.revision}"
