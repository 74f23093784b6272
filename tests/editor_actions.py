"""What an editor does, run in a process of its own: ``python -m tests.editor_actions ACTION ...``.

With ``tests.settings_processes`` the publish enqueues its rebuild in the database, where
the separate ``db_worker`` process picks it up, as on a production site.
"""

import sys

import django


def publish(page_id, title):
    from wagtail.models import Page

    page = Page.objects.get(pk=page_id).specific
    page.title = title
    page.save_revision().publish()


def switch_off(site_id):
    from wagtail.models import Site

    from wagtail_offline.models import OfflineSettings

    offline_settings = OfflineSettings.for_site(Site.objects.get(pk=site_id))
    offline_settings.enabled = False
    offline_settings.save()


ACTIONS = {"publish": publish, "switch_off": switch_off}

if __name__ == "__main__":
    django.setup()
    action, *arguments = sys.argv[1:]
    ACTIONS[action](*arguments)
