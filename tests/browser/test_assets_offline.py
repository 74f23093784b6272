"""Images render offline at any viewport and pixel density: every srcset candidate is saved."""

import pytest
from wagtail_factories import ImageFactory

from tests.browser.offline import visit_and_wait_for_worker
from tests.factories import StandardPageFactory
from wagtail_offline.manifest import rebuild_site_manifest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def viewpoint(trail_site):
    """A page with a photo wide enough for both renditions of its srcset (200w, 400w)."""
    photo = ImageFactory(title="Viewpoint", file__width=800, file__height=500)
    StandardPageFactory(
        parent=trail_site["trails"], title="Viewpoint", slug="viewpoint", image=photo
    )
    rebuild_site_manifest(trail_site["site"])
    return trail_site["url"] + "/trails/viewpoint/"


LOADED_IMAGE = """img => img.complete && img.naturalWidth > 0
    ? new URL(img.currentSrc).pathname : null"""


@pytest.mark.parametrize(
    "viewport, density, candidate",
    [
        ({"width": 375, "height": 700}, 1, "width-200"),  # a phone: the small rendition
        (
            {"width": 1280, "height": 800},
            2,
            "width-400",
        ),  # a wide screen: the large one
    ],
    ids=["phone", "wide-2x"],
)
def test_a_srcset_image_renders_offline_at_this_viewport(
    browser, trail_site, viewpoint, viewport, density, candidate
):
    base = trail_site["url"]
    context = browser.new_context(viewport=viewport, device_scale_factor=density)
    try:
        page = context.new_page()
        # The first visit is to a page without the image: only the worker can have it.
        visit_and_wait_for_worker(page, base + "/offline/")
        context.set_offline(True)
        from_worker = {}
        page.on(
            "response",
            lambda response: from_worker.__setitem__(
                response.url, response.from_service_worker
            ),
        )
        response = page.goto(viewpoint)
        assert response.from_service_worker
        page.wait_for_function(
            "() => document.querySelector('img.photo').complete", timeout=5000
        )
        shown = page.eval_on_selector("img.photo", LOADED_IMAGE)
        assert shown is not None and candidate in shown
        assert from_worker[base + shown] is True
    finally:
        context.close()
