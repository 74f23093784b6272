"""Template filters of the plugin's admin screens."""

from django import template

from ..sizes import format_size

register = template.Library()


@register.filter
def offline_size(size):
    """Bytes as the admin writes them everywhere, in the storage budget's units."""
    return format_size(size)
