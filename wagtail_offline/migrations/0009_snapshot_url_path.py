from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_url_paths(apps, schema_editor):
    # The page's url_path now: snapshots stored before this field kept the URLs it gives.
    Snapshot = apps.get_model("wagtail_offline", "OfflinePageSnapshot")
    Page = apps.get_model("wagtailcore", "Page")
    Snapshot.objects.update(
        url_path=Subquery(
            Page.objects.filter(pk=OuterRef("page_id")).values("url_path")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("wagtail_offline", "0008_manifest_parts"),
    ]

    operations = [
        migrations.AddField(
            model_name="offlinepagesnapshot",
            name="url_path",
            field=models.TextField(blank=True),
        ),
        migrations.RunPython(fill_url_paths, migrations.RunPython.noop),
    ]
