"""Whether the plugin's tables exist yet.

A site adds the plugin, deploys, and only then runs ``migrate``; Django also runs the
database checks before it migrates. Until the tables exist the checks, signal handlers,
template tag and views step aside instead of failing every request and every publish.
"""

from django.db import DatabaseError, connections, router
from django.db.models.signals import post_migrate

_ready_aliases = set()


def tables_ready():
    """True once every table of the plugin exists; remembered, so it costs one look-up."""
    from .models import (
        OfflineAssetRevision,
        OfflineFormSubmission,
        OfflineManifest,
        OfflineManifestEntry,
        OfflineManifestPart,
        OfflineManifestUse,
        OfflinePageSnapshot,
        OfflineReaderPage,
        OfflineRebuild,
        OfflineSettings,
    )

    # The newest tables stand for their migrations' columns, but for those checked below.
    models = (
        OfflineManifest,
        OfflinePageSnapshot,
        OfflineSettings,
        OfflineRebuild,
        OfflineReaderPage,
        OfflineFormSubmission,
        OfflineAssetRevision,
        OfflineManifestPart,
        OfflineManifestEntry,
        OfflineManifestUse,
    )
    alias = router.db_for_read(OfflineManifest)
    if alias in _ready_aliases:
        return True
    try:
        existing = set(connections[alias].introspection.table_names())
    except DatabaseError:
        return False
    if all(model._meta.db_table in existing for model in models) and all(
        _has_columns(alias, model, columns)
        for model, columns in (
            # Added by the newest migration (0013) to tables that existed before.
            (OfflinePageSnapshot, {"shipped", "listed_line"}),
            (OfflineManifest, {"pages_seen_until"}),
        )
    ):
        _ready_aliases.add(alias)
        return True
    return False


def _has_columns(alias, model, columns):
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            described = connection.introspection.get_table_description(
                cursor, model._meta.db_table
            )
    except DatabaseError:
        return False
    return columns <= {column.name for column in described}


def _forget(**kwargs):
    # ``migrate wagtail_offline zero`` may have just removed them.
    _ready_aliases.clear()


post_migrate.connect(_forget, dispatch_uid="wagtail_offline_schema_forget")
