"""System checks for the misconfigurations that would silently break offline reading."""

from django.apps import apps
from django.conf import settings
from django.core.checks import Info, Tags, Warning, register
from django.urls import NoReverseMatch, reverse


@register()
def check_configuration(app_configs, **kwargs):
    errors = []
    if not apps.is_installed("wagtail.contrib.settings"):
        errors.append(
            Warning(
                "wagtail_offline needs wagtail.contrib.settings for its per-site settings.",
                hint='Add "wagtail.contrib.settings" to INSTALLED_APPS.',
                id="wagtail_offline.W001",
            )
        )
    try:
        sw_url = reverse("wagtail_offline:service_worker")
    except NoReverseMatch:
        errors.append(
            Warning(
                "The offline URLs are not installed, so no service worker is served.",
                hint='Add path("", include("wagtail_offline.urls")) to your urls.py, before Wagtail\'s own URLs.',
                id="wagtail_offline.W002",
            )
        )
    else:
        if sw_url != "/sw.js":
            errors.append(
                Warning(
                    f"The service worker is served at {sw_url}, so it can only control pages below that path.",
                    hint='Include wagtail_offline.urls at the site root: path("", include("wagtail_offline.urls")).',
                    id="wagtail_offline.W003",
                )
            )
    timeout = getattr(settings, "WAGTAIL_OFFLINE_NETWORK_TIMEOUT", 3.0)
    if not isinstance(timeout, (int, float)) or timeout <= 0:
        errors.append(
            Warning(
                f"WAGTAIL_OFFLINE_NETWORK_TIMEOUT must be a positive number of seconds, not {timeout!r}.",
                hint="Set it to, for example, 3.",
                id="wagtail_offline.W004",
            )
        )
    return errors


@register(Tags.database)
def check_static_files_unchanged(app_configs, databases=None, **kwargs):
    """After a deploy: sites whose manifest lists static files that have changed since.

    Tagged ``database``: it runs with ``manage.py check --database default`` and during
    ``migrate``, never on a request.
    """
    from .assets import static_fingerprint
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
        if manifest.static_fingerprint
        and static_fingerprint(manifest.entries) != manifest.static_fingerprint
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
