import json

import django.db.models.deletion
from django.db import migrations, models


def _digests(urls):
    return {url.rsplit("/", 1)[-1].removesuffix(".json") for url in urls}


def entries_to_rows(apps, schema_editor):
    """The stored manifests' entries and page summaries become rows, so that the admin
    reads them at once; their parts are not recorded (``part_digests`` stays empty), so
    the next build of each site assembles it whole and writes every row and part."""
    Manifest = apps.get_model("wagtail_offline", "OfflineManifest")
    Part = apps.get_model("wagtail_offline", "OfflineManifestPart")
    Entry = apps.get_model("wagtail_offline", "OfflineManifestEntry")
    Use = apps.get_model("wagtail_offline", "OfflineManifestUse")
    for manifest in Manifest.objects.all():
        # The parts the manifest leads to are current: no ``used_at`` (see the model).
        current = _digests(json.loads(manifest.payload or "{}").get("indexes", []))
        for index in Part.objects.filter(site_id=manifest.site_id, digest__in=current):
            current |= _digests(json.loads(index.content).get("parts", []))
        Part.objects.filter(site_id=manifest.site_id, digest__in=current).update(
            used_at=None
        )
        page_ids = {page["url"]: page["page_id"] for page in manifest.pages}
        Entry.objects.bulk_create(
            [
                Entry(
                    site_id=manifest.site_id,
                    url=entry["url"],
                    revision=entry["revision"],
                    size=entry["size"],
                    kind=entry["kind"],
                    critical=entry["critical"],
                    form_submit_url=entry.get("formSubmitUrl", ""),
                    page_id=page_ids.get(entry["url"]),
                )
                for entry in manifest.entries
            ],
            batch_size=500,
        )
        Use.objects.bulk_create(
            [
                Use(
                    site_id=manifest.site_id,
                    user=page["url"],
                    page_id=page["page_id"],
                    url=url,
                )
                for page in manifest.pages
                for url in [
                    page["url"],
                    *page.get("needs", []),
                    *page.get("foreign", []),
                ]
            ],
            batch_size=500,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_offline", "0011_manifest_listing_renders"),
        ("wagtailcore", "0097_baselogentry_uuid_action_timestamp_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="offlinemanifest",
            name="part_digests",
            field=models.JSONField(default=list, editable=False),
        ),
        migrations.AddField(
            model_name="offlinepagesnapshot",
            name="url_path",
            field=models.TextField(blank=True),
        ),
        migrations.AlterField(
            model_name="offlinemanifestpart",
            name="used_at",
            field=models.DateTimeField(blank=True, db_index=True, null=True),
        ),
        migrations.CreateModel(
            name="OfflineManifestEntry",
            fields=[
                (
                    "id",
                    models.AutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("url", models.CharField(max_length=2048)),
                ("revision", models.CharField(max_length=64)),
                ("size", models.PositiveBigIntegerField(default=0)),
                ("kind", models.CharField(max_length=16)),
                ("critical", models.BooleanField(default=False)),
                ("form_submit_url", models.CharField(blank=True, max_length=2048)),
                ("page_id", models.IntegerField(blank=True, null=True)),
                ("part", models.PositiveIntegerField(default=0)),
                (
                    "site",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="wagtailcore.site",
                    ),
                ),
            ],
            options={
                "verbose_name": "offline manifest entry",
                "indexes": [
                    models.Index(
                        fields=["site", "part"], name="wagtail_offline_entry_part"
                    ),
                    models.Index(
                        fields=["site", "kind"], name="wagtail_offline_entry_kind"
                    ),
                    models.Index(fields=["page_id"], name="wagtail_offline_entry_page"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("site", "url"), name="wagtail_offline_entry_unique_url"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="OfflineManifestUse",
            fields=[
                (
                    "id",
                    models.AutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("user", models.CharField(max_length=2048)),
                ("page_id", models.IntegerField(blank=True, null=True)),
                ("critical", models.BooleanField(default=False)),
                ("url", models.CharField(max_length=2048)),
                (
                    "site",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="wagtailcore.site",
                    ),
                ),
            ],
            options={
                "verbose_name": "offline manifest use",
                "indexes": [
                    models.Index(
                        fields=["site", "url"], name="wagtail_offline_use_url"
                    ),
                    models.Index(
                        fields=["site", "critical", "url"],
                        name="wagtail_offline_use_critical",
                    ),
                    models.Index(
                        fields=["site", "user"], name="wagtail_offline_use_user"
                    ),
                    models.Index(
                        fields=["site", "page_id"], name="wagtail_offline_use_page"
                    ),
                ],
            },
        ),
        migrations.RunPython(entries_to_rows, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="offlinemanifest",
            name="entries",
        ),
        migrations.RemoveField(
            model_name="offlinemanifest",
            name="pages",
        ),
    ]
