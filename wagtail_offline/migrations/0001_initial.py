# Generated against Wagtail 7.4, the oldest supported release; the Page model may be swapped on Wagtail 8.

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

from wagtail_offline.compat import PAGE_MODEL, PAGE_MODEL_DEPENDENCY


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('wagtailcore', '0097_baselogentry_uuid_action_timestamp_indexes'),
        PAGE_MODEL_DEPENDENCY,
    ]

    operations = [
        migrations.CreateModel(
            name='OfflineManifest',
            fields=[
                ('site', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='+', serialize=False, to='wagtailcore.site')),
                ('version', models.CharField(max_length=64)),
                ('entries', models.JSONField(default=list)),
                ('problems', models.JSONField(default=list)),
                ('static_fingerprint', models.CharField(blank=True, max_length=64)),
                ('built_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'verbose_name': 'offline manifest',
            },
        ),
        migrations.CreateModel(
            name='OfflineSettings',
            fields=[
                ('id', models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('enabled', models.BooleanField(default=True, help_text="Untick to switch offline reading off for this site: readers' browsers then remove everything they saved.", verbose_name='enabled')),
                ('include_documents', models.BooleanField(default=False, help_text='Documents (PDFs and others) linked from offline pages are saved too. Documents in private collections never are.', verbose_name='include linked documents')),
                ('network_timeout', models.FloatField(blank=True, help_text="How long a reader's browser waits for a slow network before showing the saved copy of a page. Leave empty for the site default (3 seconds).", null=True, validators=[django.core.validators.MinValueValidator(0.5), django.core.validators.MaxValueValidator(60)], verbose_name='network timeout (seconds)')),
                ('persistent_storage', models.BooleanField(default=False, help_text="Ask readers' browsers not to evict saved pages when storage runs low. Some browsers ask the reader for permission.", verbose_name='ask for persistent storage')),
                ('fallback_page', models.ForeignKey(blank=True, help_text='What readers see when they are offline and open a page that was not saved. Leave empty for a built-in message.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=PAGE_MODEL, verbose_name='offline fallback page')),
                ('site', models.OneToOneField(editable=False, on_delete=django.db.models.deletion.CASCADE, to='wagtailcore.site')),
            ],
            options={
                'verbose_name': 'offline reading',
            },
        ),
        migrations.CreateModel(
            name='OfflinePageSnapshot',
            fields=[
                ('id', models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('url', models.CharField(max_length=2048)),
                ('revision', models.CharField(blank=True, max_length=64)),
                ('size', models.PositiveBigIntegerField(default=0)),
                ('asset_urls', models.JSONField(default=list)),
                ('error', models.TextField(blank=True)),
                ('rendered_at', models.DateTimeField(auto_now=True)),
                ('page', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=PAGE_MODEL)),
                ('site', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='wagtailcore.site')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('site', 'page', 'url'), name='unique_offline_snapshot')],
            },
        ),
    ]
