import pytest
from django.core.cache import cache
from django.core.files.storage import FileSystemStorage
from wagtail.models import Locale, Page, Site

from tests.factories import StandardPageFactory
from tests.s3_media import s3_media, s3_server  # noqa: F401  (fixtures for every test module)
from wagtail_offline import rendering


@pytest.fixture(autouse=True)
def rendered_listings_forgotten():
    """Each test's database starts at the same serving generation: forget other tests' listings."""
    from wagtail_offline import views

    views.shared_listings.clear()
    views.listing_fragments.clear()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def root_page(db):
    """Wagtail's tree root; created here because transactional tests flush it away."""
    Locale.objects.get_or_create(language_code="en")
    root = Page.get_first_root_node()
    if root is None:
        root = Page.add_root(title="Root", slug="root")
    return root


@pytest.fixture
def home(root_page):
    """A flagged-nothing home page as the root of the default site (localhost)."""
    cache.clear()  # Wagtail caches site root paths; transactional tests flush the tables under it.
    Site.objects.all().delete()
    for child in root_page.get_children():
        child.delete()
    home = StandardPageFactory(parent=root_page, title="Home", slug="home")
    Site.objects.create(
        hostname="localhost",
        port=80,
        root_page=home,
        is_default_site=True,
        site_name="Trails",
    )
    return home


@pytest.fixture
def site(home):
    return Site.objects.get(root_page=home)


@pytest.fixture
def trails(home):
    """/trails/, flagged with its subpages."""
    return StandardPageFactory(
        parent=home,
        title="Trails",
        slug="trails",
        offline_available=True,
        offline_include_subpages=True,
    )


@pytest.fixture
def reads(monkeypatch):
    """The files read from now on: from a storage, or from an app's static folder."""
    names = []
    storage_open = FileSystemStorage._open

    def counted_storage_open(storage, name, mode="rb"):
        names.append(name)
        return storage_open(storage, name, mode)

    def counted_open(path, *args, **kwargs):
        names.append(str(path))
        return open(path, *args, **kwargs)

    monkeypatch.setattr(FileSystemStorage, "_open", counted_storage_open)
    monkeypatch.setattr(rendering, "open", counted_open, raising=False)
    return names
