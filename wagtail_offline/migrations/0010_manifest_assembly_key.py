from django.db import migrations, models


class Migration(migrations.Migration):
    # Manifests stored before have no key: the next build judges every asset afresh.
    dependencies = [
        ("wagtail_offline", "0009_snapshot_paths_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="offlinemanifest",
            name="assembly_key",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
    ]
