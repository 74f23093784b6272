"""Creates the demo trail guide: pages, generated maps and photos, offline settings, an admin.

Idempotent: running it again leaves an existing guide as it is. Images are drawn here with
Pillow, so the repository holds no binary files.
"""

import io
import itertools
import math
import random

from django.contrib.auth import get_user_model
from django.core.files.images import ImageFile
from django.core.management import call_command
from django.core.management.base import BaseCommand
from PIL import Image as PillowImage
from PIL import ImageDraw
from wagtail.images.models import Image
from wagtail.models import Page, PageViewRestriction, Site

from trails.models import HomePage, InfoPage, TrailIndexPage, TrailPage
from wagtail_offline.models import OfflineSettings

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "changeme"

TRAILS = [
    {
        "title": "Blackstone Edge",
        "slug": "blackstone-edge",
        "distance_km": "9.5",
        "ascent_m": 320,
        "difficulty": "moderate",
        "summary": "A gritstone edge with wide views and a Roman road down.",
        "steps": [
            "Leave the car park by the stile and follow the drain west.",
            "At the reservoir wall, bear right up the paved track to the edge.",
            "Follow the edge north to the trig point, then descend by the old road.",
        ],
    },
    {
        "title": "Kinder Downfall",
        "slug": "kinder-downfall",
        "distance_km": "13.0",
        "ascent_m": 540,
        "difficulty": "hard",
        "summary": "Up the scramble to the plateau and along to the waterfall.",
        "steps": [
            "From Bowden Bridge, take the lane to the reservoir.",
            "Climb William Clough to the plateau edge.",
            "Walk the edge path south to the Downfall; return the same way in mist.",
        ],
    },
    {
        "title": "Lathkill Dale",
        "slug": "lathkill-dale",
        "distance_km": "6.0",
        "ascent_m": 110,
        "difficulty": "easy",
        "summary": "A limestone dale with clear water, weirs and old mine workings.",
        "steps": [
            "Start at Over Haddon and drop down the lane to the river.",
            "Follow the riverside path upstream past the weirs.",
            "Climb out by the steps at Cales Dale and return over the fields.",
        ],
    },
    {
        "title": "Stanage Edge",
        "slug": "stanage-edge",
        "distance_km": "8.0",
        "ascent_m": 250,
        "difficulty": "moderate",
        "summary": "The classic edge walk above Hathersage.",
        "steps": [
            "From Hathersage, climb through North Lees to the edge.",
            "Walk the edge to High Neb.",
            "Descend by the Long Causeway and the lane back to the village.",
        ],
    },
]


class Command(BaseCommand):
    help = "Create the demo trail guide with generated images, offline settings and an admin."

    def handle(self, *args, **options):
        self.random = random.Random(7)
        site = Site.objects.filter(is_default_site=True).first()
        if site and isinstance(site.root_page.specific, HomePage):
            self.stdout.write("The demo content is already there.")
        else:
            self.create_guide()
        self.create_admin()
        call_command("rebuild_offline_manifest", stdout=self.stdout)

    def create_guide(self):
        root = Page.get_first_root_node()
        home = root.add_child(
            instance=HomePage(
                title="Fell Trails",
                slug="fell-trails",
                intro="<p>Walks for the high moors, where the phone signal ends before the path does. "
                "Save the trails before you leave, and read them on the hill.</p>",
            )
        )
        old_site = Site.objects.filter(is_default_site=True).first()
        Site.objects.update_or_create(
            is_default_site=True,
            defaults={
                "hostname": "localhost",
                "port": 80,
                "root_page": home,
                "site_name": "Fell Trails",
            },
        )
        if old_site and old_site.root_page_id != home.pk:
            # Wagtail's welcome page is replaced by the guide.
            Page.objects.filter(pk=old_site.root_page_id).exclude(pk=home.pk).delete()

        index = home.add_child(
            instance=TrailIndexPage(
                title="Trails",
                slug="trails",
                intro="<p>Every route in the guide, with maps. All of them work offline.</p>",
                offline_available=True,
                offline_include_subpages=True,
                search_description="Every route in the guide, with maps and photos.",
            )
        )
        for number, trail in enumerate(TRAILS):
            index.add_child(
                instance=TrailPage(
                    title=trail["title"],
                    slug=trail["slug"],
                    distance_km=trail["distance_km"],
                    ascent_m=trail["ascent_m"],
                    difficulty=trail["difficulty"],
                    search_description=trail["summary"],
                    directions="<ol>"
                    + "".join(f"<li>{step}</li>" for step in trail["steps"])
                    + "</ol>",
                    map_image=self.image(
                        f"Map: {trail['title']}", self.draw_map(number)
                    ),
                    photo=self.image(
                        f"Photo: {trail['title']}", self.draw_photo(number)
                    ),
                )
            )
        notes = index.add_child(
            instance=InfoPage(
                title="Ranger notes",
                slug="ranger-notes",
                body="<p>Gate codes and the rangers' rota. Password protected: never saved offline.</p>",
            )
        )
        PageViewRestriction.objects.create(
            page=notes, restriction_type=PageViewRestriction.PASSWORD, password="ranger"
        )
        home.add_child(
            instance=InfoPage(
                title="Safety on the hills",
                slug="safety",
                offline_available=True,
                search_description="What to carry, and who to call.",
                body="<p>Carry a map, a compass, water and a layer more than you think. "
                "In an emergency call 999 and ask for the police, then mountain rescue.</p>",
            )
        )
        soon = home.add_child(
            instance=InfoPage(
                title="Coming soon",
                slug="coming-soon",
                body="<p>New routes being surveyed. Not saved for offline reading yet.</p>",
            )
        )
        fallback = home.add_child(
            instance=InfoPage(
                title="You're offline",
                slug="offline-fallback",
                body="<p>This page was not saved for offline reading. "
                '<a href="/offline/">See the pages you can read without signal.</a></p>',
            )
        )
        del soon
        site = Site.objects.get(is_default_site=True)
        offline_settings = OfflineSettings.for_site(site)
        offline_settings.enabled = True
        offline_settings.fallback_page = fallback
        offline_settings.save()
        self.stdout.write(
            self.style.SUCCESS(f"Created the trail guide: {len(TRAILS)} trails.")
        )

    def create_admin(self):
        User = get_user_model()
        if not User.objects.filter(username=ADMIN_USERNAME).exists():
            User.objects.create_superuser(
                ADMIN_USERNAME, "admin@example.com", ADMIN_PASSWORD
            )

    def image(self, title, picture):
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG", optimize=True)
        name = title.lower().replace(": ", "-").replace(" ", "-") + ".png"
        return Image.objects.create(title=title, file=ImageFile(buffer, name=name))

    def draw_map(self, seed):
        """A topographic-style map: contour rings around two summits and a dashed route."""
        rng = random.Random(seed)
        width, height = 1200, 800
        picture = PillowImage.new("RGB", (width, height), (242, 239, 226))
        draw = ImageDraw.Draw(picture)
        summits = [(rng.randint(250, 950), rng.randint(200, 600)) for _ in range(2)]
        for cx, cy in summits:
            for ring in range(14, 0, -1):
                radius = ring * 28
                shade = 200 - ring * 6
                points = [
                    (
                        cx + radius * math.cos(a) * (1 + 0.15 * math.sin(3 * a + seed)),
                        cy + radius * 0.7 * math.sin(a) * (1 + 0.1 * math.cos(2 * a)),
                    )
                    for a in [i * math.pi / 36 for i in range(73)]
                ]
                draw.line(points, fill=(160, shade, 110), width=2)
        route = [(80, 720)] + summits + [(1120, 120)]
        for (x1, y1), (x2, y2) in itertools.pairwise(route):
            steps = 30
            for step in range(0, steps, 2):
                a, b = step / steps, (step + 1) / steps
                draw.line(
                    [
                        (x1 + (x2 - x1) * a, y1 + (y2 - y1) * a),
                        (x1 + (x2 - x1) * b, y1 + (y2 - y1) * b),
                    ],
                    fill=(200, 40, 40),
                    width=6,
                )
        draw.rectangle([20, 20, 260, 70], fill=(255, 255, 255), outline=(60, 60, 60))
        draw.text((34, 36), "1 km   N ^", fill=(30, 30, 30))
        return picture

    def draw_photo(self, seed):
        """A landscape: a sky gradient, layered hills and a sun."""
        rng = random.Random(100 + seed)
        width, height = 1600, 900
        picture = PillowImage.new("RGB", (width, height))
        draw = ImageDraw.Draw(picture)
        for y in range(height):
            t = y / height
            draw.line(
                [(0, y), (width, y)],
                fill=(int(120 + 100 * t), int(170 + 60 * t), int(230 - 30 * t)),
            )
        draw.ellipse([1200, 120, 1320, 240], fill=(255, 226, 140))
        for layer in range(4):
            base = 450 + layer * 110
            colour = (
                60 + layer * 15,
                110 - layer * 10 + rng.randint(0, 20),
                70 + layer * 5,
            )
            points = [(0, height)]
            for x in range(0, width + 100, 100):
                points.append((x, base - rng.randint(0, 160 - layer * 30)))
            points.append((width, height))
            draw.polygon(points, fill=colour)
        return picture
