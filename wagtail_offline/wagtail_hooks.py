"""The plugin's admin screens, one module each under ``admin/``; importing one registers its hooks."""

from .admin import bulk_actions, dashboard, editor, report  # noqa: F401
