from django.db import migrations, models


class Migration(migrations.Migration):
    # Manifests stored before have none: the next build renders every listing.
    dependencies = [
        ("wagtail_offline", "0010_manifest_assembly_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="offlinemanifest",
            name="listing_renders",
            field=models.JSONField(default=dict, editable=False),
        ),
    ]
