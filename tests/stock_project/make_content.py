"""What the site's editors do, run in the stock project with ``manage.py shell -c``.

Photos are made with Pillow; Trails is flagged with its subpages, the home page on
its own, and News not at all.
"""

from io import BytesIO

from articles.models import ArticlePage
from django.core.files.images import ImageFile
from home.models import HomePage
from PIL import Image as PillowImage
from wagtail.images.models import Image


def photo(title, colour):
    buffer = BytesIO()
    PillowImage.new("RGB", (800, 500), colour).save(buffer, "JPEG")
    return Image.objects.create(
        title=title, file=ImageFile(buffer, name=f"{title.lower()}.jpg")
    )


def publish_article(parent, **fields):
    page = parent.add_child(instance=ArticlePage(**fields))
    page.save_revision().publish()
    return page


home = HomePage.objects.get()  # The welcome page that `wagtail start` made.
home.offline_available = True
home.save_revision().publish()

trails = publish_article(
    home,
    title="Trails",
    slug="trails",
    image=photo("Fells", (47, 111, 79)),
    body="<p>Every walk on the fells, with its map.</p>",
    offline_available=True,
    offline_include_subpages=True,
)
publish_article(
    trails,
    title="Ridge walk",
    slug="ridge",
    image=photo("Ridge", (140, 98, 57)),
    body="<p>Along the ridge to the summit cairn.</p>",
)
publish_article(
    home,
    title="News",
    slug="news",
    image=photo("News", (200, 200, 200)),
    body="<p>What changed on the trails this week.</p>",
)
