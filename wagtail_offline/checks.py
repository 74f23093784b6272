"""System checks for the misconfigurations that would silently break offline reading.

Ids: W001 settings app missing, W002 URLs not installed, W003 URLs not at the site root,
E001 URLs shadowed by an earlier pattern, W004 network timeout, E002 bypass prefixes,
E003 asset size limit, E004 URL limit, E005 report rate, E006 cache alias, E007 the switch,
W005 (database) static files changed since the build, I001 (database) tables missing,
W006 ``OfflineFormMixin`` on a page that is not a form page, E008 media origins.
"""

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Info, Tags, Warning, register
from django.urls import NoReverseMatch, Resolver404, resolve, reverse

from . import conf
from .media_origins import origin_problem

# The plugin's public URLs; any of them answered by another view is a misconfiguration.
PUBLIC_URL_NAMES = (
    "service_worker",
    "listing",
    "fallback",
    "report",
    "csrf_token",
    "queued",
)


@register()
def check_configuration(app_configs, **kwargs):
    return [*check_settings_app(), *check_urls(), *check_settings()]


def check_settings_app():
    if apps.is_installed("wagtail.contrib.settings"):
        return []
    return [
        Warning(
            "wagtail_offline needs wagtail.contrib.settings for its per-site settings.",
            hint='Add "wagtail.contrib.settings" to INSTALLED_APPS.',
            id="wagtail_offline.W001",
        )
    ]


def check_urls():
    """The plugin's URLs are installed, at the site root, and answered by its own views."""
    try:
        sw_url = reverse("wagtail_offline:service_worker")
    except NoReverseMatch:
        return [
            Warning(
                "The offline URLs are not installed, so no service worker is served.",
                hint='Add path("", include("wagtail_offline.urls")) to your urls.py, before Wagtail\'s own URLs.',
                id="wagtail_offline.W002",
            )
        ]
    errors = []
    if sw_url != "/sw.js":
        errors.append(
            Warning(
                f"The service worker is served at {sw_url}, so it can only control pages below that path.",
                hint='Include wagtail_offline.urls at the site root: path("", include("wagtail_offline.urls")).',
                id="wagtail_offline.W003",
            )
        )
    shadowed = _shadowed_urls()
    if shadowed:
        answered = ", ".join(f"{path} by {view}" for path, view in shadowed)
        errors.append(
            Error(
                f"wagtail_offline's URLs are answered by other views ({answered}): they are "
                "included after a pattern that catches them, such as Wagtail's page URLs, so "
                "readers get that view's answer (a 404 from Wagtail) instead.",
                hint='In urls.py, put path("", include("wagtail_offline.urls")) before '
                'path("", include(wagtail_urls)), which must stay last.',
                id="wagtail_offline.E001",
            )
        )
    return errors


def _shadowed_urls():
    """(path, view) of each public URL of the plugin that resolves to another view."""
    shadowed = []
    for name in PUBLIC_URL_NAMES:
        try:
            path = reverse(f"wagtail_offline:{name}")
            match = resolve(path)
        except (NoReverseMatch, Resolver404):
            continue
        if "wagtail_offline" not in match.app_names or match.url_name != name:
            shadowed.append((path, match.view_name or match._func_path))
    return shadowed


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def check_settings():
    """Each WAGTAIL_OFFLINE_* setting has a value the plugin can use."""
    errors = []
    enabled = conf.get("WAGTAIL_OFFLINE_ENABLED")
    if not isinstance(enabled, bool):
        errors.append(
            Error(
                f"WAGTAIL_OFFLINE_ENABLED must be True or False, not {enabled!r}.",
                hint="A string such as 'False' counts as on: write True or False.",
                id="wagtail_offline.E007",
            )
        )
    timeout = conf.get("WAGTAIL_OFFLINE_NETWORK_TIMEOUT")
    if (
        not isinstance(timeout, (int, float))
        or isinstance(timeout, bool)
        or timeout <= 0
    ):
        errors.append(
            Warning(
                f"WAGTAIL_OFFLINE_NETWORK_TIMEOUT must be a positive number of seconds, not {timeout!r}.",
                hint="Set it to, for example, 3.",
                id="wagtail_offline.W004",
            )
        )
    errors += check_bypass_prefixes(conf.get("WAGTAIL_OFFLINE_BYPASS_PREFIXES"))
    errors += check_media_origins(conf.get("WAGTAIL_OFFLINE_MEDIA_ORIGINS"))
    size = conf.get("WAGTAIL_OFFLINE_MAX_ASSET_SIZE")
    if not _is_int(size) or size <= 0:
        errors.append(
            Error(
                f"WAGTAIL_OFFLINE_MAX_ASSET_SIZE must be a positive number of bytes, not {size!r}: "
                "rebuilding a manifest fails without it.",
                hint="Set it to a whole number of bytes, for example 10 * 1024 * 1024 (10 MiB).",
                id="wagtail_offline.E003",
            )
        )
    limit = conf.get("WAGTAIL_OFFLINE_MAX_URLS_PER_PAGE")
    if limit is not None and (not _is_int(limit) or limit <= 0):
        errors.append(
            Error(
                f"WAGTAIL_OFFLINE_MAX_URLS_PER_PAGE must be a positive whole number or None, not {limit!r}.",
                hint="Set it to, for example, 500, or to None for no limit.",
                id="wagtail_offline.E004",
            )
        )
    rate = conf.get("WAGTAIL_OFFLINE_REPORTS_PER_MINUTE")
    if rate is not None and (not _is_int(rate) or rate < 0):
        errors.append(
            Error(
                f"WAGTAIL_OFFLINE_REPORTS_PER_MINUTE must be a whole number of reports or None, not {rate!r}.",
                hint="Set it to, for example, 10; 0 or None turns the limit off.",
                id="wagtail_offline.E005",
            )
        )
    alias = conf.get("WAGTAIL_OFFLINE_CACHE")
    if not isinstance(alias, str) or alias not in settings.CACHES:
        errors.append(
            Error(
                f"WAGTAIL_OFFLINE_CACHE names the cache {alias!r}, which is not in CACHES: "
                "/sw.js and the manifest would fail on every request.",
                hint=f"Use one of {', '.join(map(repr, settings.CACHES))}, or add it to CACHES.",
                id="wagtail_offline.E006",
            )
        )
    return errors


def check_bypass_prefixes(prefixes):
    """A list of paths, each from the site root: never a bare string, never a relative path."""
    if isinstance(prefixes, str):
        return [
            Error(
                f"WAGTAIL_OFFLINE_BYPASS_PREFIXES is the string {prefixes!r}, not a list. The plugin "
                "reads it as that one prefix, but a string is easily taken for a list of its letters.",
                hint=f"Write a list: WAGTAIL_OFFLINE_BYPASS_PREFIXES = [{prefixes!r}].",
                id="wagtail_offline.E002",
            )
        ]
    if not isinstance(prefixes, (list, tuple)):
        return [
            Error(
                f"WAGTAIL_OFFLINE_BYPASS_PREFIXES must be a list of paths, not {prefixes!r}.",
                hint='Write a list of path prefixes, for example ["/api/"], or [] for none.',
                id="wagtail_offline.E002",
            )
        ]
    wrong = [p for p in prefixes if not isinstance(p, str) or not p.startswith("/")]
    if not wrong:
        return []
    return [
        Error(
            "Every entry of WAGTAIL_OFFLINE_BYPASS_PREFIXES must be a path that starts with "
            f"“/”; these are not: {', '.join(map(repr, wrong))}.",
            hint='Write paths from the site root, for example "/api/".',
            id="wagtail_offline.E002",
        )
    ]


def check_media_origins(origins):
    """A list of origins (``scheme://host[:port]``): a path or a typo would save nothing."""
    if isinstance(origins, str):
        return [
            Error(
                f"WAGTAIL_OFFLINE_MEDIA_ORIGINS is the string {origins!r}, not a list. The "
                "plugin reads it as that one origin, but a string is easily taken for a list "
                "of its letters.",
                hint=f"Write a list: WAGTAIL_OFFLINE_MEDIA_ORIGINS = [{origins!r}].",
                id="wagtail_offline.E008",
            )
        ]
    if not isinstance(origins, (list, tuple)):
        return [
            Error(
                f"WAGTAIL_OFFLINE_MEDIA_ORIGINS must be a list of origins, not {origins!r}.",
                hint='Write a list, for example ["https://media.example.com"], or [] for none.',
                id="wagtail_offline.E008",
            )
        ]
    wrong = [
        f"{origin!r} ({problem})"
        for origin in origins
        if (problem := origin_problem(origin)) is not None
    ]
    if not wrong:
        return []
    return [
        Error(
            "Every entry of WAGTAIL_OFFLINE_MEDIA_ORIGINS must be an origin, scheme://host[:port]; "
            f"these are not, and their media is reported as cross-origin: {', '.join(wrong)}.",
            hint='Write the origin the media URLs start with, without a path: "https://media.example.com".',
            id="wagtail_offline.E008",
        )
    ]


@register()
def check_form_mixin_models(app_configs, **kwargs):
    """``OfflineFormMixin`` only does something on a Wagtail form page."""
    from wagtail.contrib.forms.models import FormMixin
    from wagtail.models import get_page_models

    from .models import OfflineFormMixin

    return [
        Warning(
            f"{model._meta.label} has OfflineFormMixin but is not a Wagtail form page: "
            "its submissions are never kept offline.",
            hint="Remove OfflineFormMixin from it, or make it a form page (inherit "
            "from wagtail.contrib.forms.models.AbstractForm or AbstractEmailForm).",
            obj=model,
            id="wagtail_offline.W006",
        )
        for model in get_page_models()
        if (app_configs is None or model._meta.app_config in app_configs)
        and issubclass(model, OfflineFormMixin)
        and not issubclass(model, FormMixin)
        and not model._meta.abstract
    ]


def rebuild_blockers():
    """The checks that stop ``rebuild_offline_manifest``: every error, and URLs not installed."""
    return [
        error
        for error in [*check_urls(), *check_settings()]
        if error.is_serious() or error.id == "wagtail_offline.W002"
    ]


@register(Tags.database)
def check_static_files_unchanged(app_configs, databases=None, **kwargs):
    """After a deploy: sites whose manifest lists static files that have changed since.

    Tagged ``database``: it runs with ``manage.py check --database default`` and during
    ``migrate``, never on a request.
    """
    from . import manifest_store
    from .models import OfflineManifest
    from .schema import tables_ready

    if not databases:
        return []
    if not tables_ready():
        # ``migrate`` runs this before it creates the tables: say so, do not raise.
        return [
            Info(
                "The offline manifests were not checked: the wagtail_offline tables do not exist yet.",
                hint="Run manage.py migrate.",
                id="wagtail_offline.I001",
            )
        ]
    stale = [
        str(manifest.site)
        for manifest in OfflineManifest.objects.select_related("site")
        if manifest.static_fingerprint and manifest_store.static_files_changed(manifest)
    ]
    if not stale:
        return []
    return [
        Warning(
            f"The static files changed since the offline manifest of {', '.join(stale)} was built: "
            "readers' browsers would keep the old ones offline.",
            hint="Run manage.py rebuild_offline_manifest --if-static-changed after collectstatic.",
            id="wagtail_offline.W005",
        )
    ]
