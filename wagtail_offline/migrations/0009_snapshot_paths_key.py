from django.db import migrations, models


class Migration(migrations.Migration):
    # Snapshots stored before have no key: the next build asks their pages for their URLs
    # once, and records the keys of those whose URLs did not change.
    dependencies = [
        ("wagtail_offline", "0008_manifest_parts"),
    ]

    operations = [
        migrations.AddField(
            model_name="offlinepagesnapshot",
            name="paths_key",
            field=models.CharField(blank=True, max_length=64),
        ),
    ]
