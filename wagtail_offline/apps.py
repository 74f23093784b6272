from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WagtailOfflineAppConfig(AppConfig):
    name = "wagtail_offline"
    label = "wagtail_offline"
    verbose_name = _("Wagtail offline")
    default_auto_field = "django.db.models.AutoField"

    def ready(self):
        from . import checks, schema  # noqa: F401 - register the checks and the migrate hook
        from .signal_handlers import register_signal_handlers

        register_signal_handlers()
