from django.db import migrations


def clear_subpages_without_the_page(apps, schema_editor):
    # "Also its subpages" without "Available offline" did nothing before; the page form
    # now refuses it, so rows holding it would stop their pages from being published.
    for model in apps.get_models():
        fields = {field.name for field in model._meta.concrete_fields}
        if {"offline_available", "offline_include_subpages"} <= fields:
            if model._meta.proxy or model._meta.abstract:
                continue
            model._base_manager.filter(
                offline_available=False, offline_include_subpages=True
            ).update(offline_include_subpages=False)


class Migration(migrations.Migration):
    dependencies = [("wagtail_offline", "0004_admin_status")]

    # Page models live in the site's own apps: this may run before or after theirs, and
    # sees the columns their migrations have made so far.
    operations = [
        migrations.RunPython(
            clear_subpages_without_the_page, migrations.RunPython.noop, elidable=True
        )
    ]
