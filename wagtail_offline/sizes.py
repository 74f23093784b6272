"""How the admin writes sizes: one unit system everywhere, the storage budget's."""

from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

# The storage budget's units: decimal, as editors enter the budget (1 MB = 1,000,000 bytes).
SIZE_UNITS = (
    (10**9, _("%(size)s GB")),
    (10**6, _("%(size)s MB")),
    (10**3, _("%(size)s KB")),
)


def format_size(size):
    """``size`` bytes in the storage budget's units: "12.3 MB" (1 MB = 1,000,000 bytes)."""
    for unit, label in SIZE_UNITS:
        if size >= unit:
            value = round(size / unit, 1)
            places = 0 if value == int(value) else 1
            return label % {"size": number_format(value, places)}
    return ngettext("%(size)d byte", "%(size)d bytes", size) % {"size": size}
