"""The French catalogue: complete, compiled from the current .po, and used by every admin view."""

import gettext
import re
from pathlib import Path

import pytest
from django.utils import translation
from wagtail.models import get_page_models
from wagtail.users.models import UserProfile

from tests.factories import StandardPageFactory
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.models import OfflineSettings

LOCALE = Path(__file__).parent.parent / "wagtail_offline" / "locale"
PO_FILE = LOCALE / "fr" / "LC_MESSAGES" / "django.po"
MO_FILE = LOCALE / "fr" / "LC_MESSAGES" / "django.mo"


def po_entries(path):
    """(flags, msgid, msgid_plural, [msgstr…]) of each entry of a .po file."""
    entries, entry, field = [], None, None

    def unquote(text):
        return text[1:-1].encode().decode("unicode_escape").encode("latin-1").decode()

    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if entry:
                entries.append(entry)
            entry, field = None, None
            continue
        entry = entry or {"flags": "", "msgid": "", "plural": None, "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"] += line
        elif line.startswith("#"):
            continue
        elif match := re.match(
            r"^(msgid_plural|msgid|msgstr(?:\[(\d)\])?) (\".*\")$", line
        ):
            keyword, index, text = match.groups()
            if keyword == "msgid":
                field = ("msgid",)
                entry["msgid"] = unquote(text)
            elif keyword == "msgid_plural":
                field = ("plural",)
                entry["plural"] = unquote(text)
            else:
                field = ("msgstr", int(index or 0))
                entry["msgstr"][int(index or 0)] = unquote(text)
        elif line.startswith('"'):
            if field[0] == "msgstr":
                entry["msgstr"][field[1]] += unquote(line)
            else:
                entry[field[0]] += unquote(line)
    return [e for e in entries if e["msgid"]]  # Without the header.


def test_the_french_catalogue_is_complete_and_compiled_from_the_current_po():
    entries = po_entries(PO_FILE)
    assert len(entries) > 150
    untranslated = [
        e["msgid"]
        for e in entries
        if not all(e["msgstr"].values()) or "fuzzy" in e["flags"]
    ]
    assert untranslated == []
    with MO_FILE.open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    for entry in entries:
        if entry["plural"]:
            assert (
                compiled.ngettext(entry["msgid"], entry["plural"], 1)
                == entry["msgstr"][0]
            )
            assert (
                compiled.ngettext(entry["msgid"], entry["plural"], 5)
                == entry["msgstr"][1]
            )
        else:
            assert compiled.gettext(entry["msgid"]) == entry["msgstr"][0]


@pytest.fixture
def french_editor(client, django_user_model, settings):
    settings.WAGTAILADMIN_PERMITTED_LANGUAGES = [("en", "English"), ("fr", "Français")]
    user = django_user_model.objects.create_superuser("claire", "c@example.com", "pw")
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "fr"
    profile.save()
    client.force_login(user)
    yield client
    # Wagtail keeps each model's edit handler, whose tab ids come from its headings in the
    # language of the first render: later tests must get English ones again.
    for model in get_page_models():
        model.get_edit_handler.cache_clear()
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def offline_site(site, trails):
    StandardPageFactory(parent=trails, title="Crête", slug="crete")
    StandardPageFactory(parent=trails, title="Brouillon", slug="brouillon", live=False)
    rebuild_site_manifest(site)
    OfflineSettings.for_site(site)
    return site


def text_of(response):
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_report_speaks_french(french_editor, offline_site):
    html = text_of(french_editor.get("/admin/reports/offline-pages/"))
    assert "Pages hors ligne" in html
    assert "Taille totale" in html and "Dernier rendu" in html
    assert "brouillon : jamais publiée" in html
    assert "Offline pages" not in html and "Total size" not in html


def test_the_dashboard_panel_speaks_french(french_editor, offline_site):
    html = text_of(french_editor.get("/admin/"))
    assert "Lecture hors ligne" in html
    assert "Reconstruire maintenant" in html
    assert "Stockage utilisé" in html
    assert "Rebuild now" not in html and "Storage used" not in html


def test_the_page_editor_speaks_french(french_editor, offline_site, trails):
    html = text_of(french_editor.get(f"/admin/pages/{trails.pk}/edit/"))
    assert "Statut hors ligne" in html
    assert "Disponible hors ligne ·" in html
    assert "Cette section : 2 pages" in html
    assert "rendre aussi ses sous-pages disponibles hors ligne" in html.lower()
    assert "Available offline ·" not in html and "This section:" not in html


def test_the_offline_settings_speak_french(french_editor, offline_site):
    url = f"/admin/settings/wagtail_offline/offlinesettings/{offline_site.pk}/"
    html = text_of(french_editor.get(url))
    assert "budget de stockage (mo)" in html.lower()
    assert "Autres URL à enregistrer hors ligne" in html
    assert "Chemins auxquels le service worker ne touche jamais" in html
    assert "storage budget" not in html.lower()


def test_the_bulk_action_speaks_french(french_editor, offline_site, trails):
    crete = trails.get_children().get(slug="crete")
    html = text_of(
        french_editor.get(
            "/admin/bulk/wagtailcore/page/make_available_offline/",
            {"id": [crete.pk], "next": "/admin/"},
        )
    )
    assert "Oui, rendre disponible hors ligne" in html
    assert "Yes, make available offline" not in html
