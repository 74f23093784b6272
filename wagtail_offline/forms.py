"""The admin form of a site's offline settings."""

from django.utils.translation import gettext as _
from wagtail.admin.forms import WagtailAdminModelForm


class OfflineSettingsForm(WagtailAdminModelForm):
    """Refuses what would silently not work: checked against the site being edited."""

    def clean(self):
        cleaned_data = super().clean()
        site = getattr(self.instance, "site", None)
        if site is None:
            return cleaned_data
        self._check_fallback_page(site, cleaned_data.get("fallback_page"))
        prefixes = self._clean_bypass_prefixes()
        self._check_extra_urls(site, prefixes)
        return cleaned_data

    def _check_fallback_page(self, site, page):
        from .selection import exclusion_reason, is_public_live_page, page_is_in_site

        if page is None:
            return
        if not page_is_in_site(page, site):
            self.add_error(
                "fallback_page",
                _("“%(page)s” is not a page of %(site)s.")
                % {"page": page, "site": site.site_name or site},
            )
        elif not is_public_live_page(page):
            self.add_error(
                "fallback_page",
                _(
                    "“%(page)s” cannot be shown to readers offline (%(reason)s): choose "
                    "a published page that everyone can see."
                )
                % {"page": page, "reason": exclusion_reason(page)},
            )

    def _kept_forms(self, name):
        """The inline forms of ``name`` that are valid and not being deleted."""
        formset = self.formsets.get(name)
        if formset is None:
            return []
        return [
            form
            for form in formset.forms
            if (form.has_changed() or form.instance.pk)
            and form.is_valid()
            and not form.cleaned_data.get("DELETE")
        ]

    def _clean_bypass_prefixes(self):
        """Refuse prefixes the worker cannot use; the valid ones, for the other URLs."""
        prefixes = []
        for form in self._kept_forms("bypass_prefixes"):
            prefix = form.cleaned_data.get("path") or ""
            error = bypass_prefix_error(prefix)
            if error:
                form.add_error("path", error)
            else:
                prefixes.append(prefix)
        return prefixes

    def _check_extra_urls(self, site, bypass_prefixes):
        from .manifest import check_extra_url

        for form in self._kept_forms("extra_urls"):
            url = form.cleaned_data.get("url") or ""
            error = check_extra_url(site, url.strip(), bypass_prefixes)
            if error:
                form.add_error("url", error)


def bypass_prefix_error(prefix):
    """Why ``prefix`` cannot be a path the worker never touches, or None."""
    if not prefix.startswith("/"):
        return _("A path prefix starts with “/”, such as /api/.")
    if prefix == "/":
        return _(
            "“/” alone would switch offline reading off for the whole site: untick "
            "“Enabled” instead."
        )
    if any(character.isspace() for character in prefix):
        return _("A path prefix cannot contain spaces.")
    if "?" in prefix or "#" in prefix:
        return _("A path prefix is a path only, without “?” or “#”.")
    return None
