"""Creates the demo trail guide: pages, a report form, generated maps and photos, offline
settings with a home-screen icon, an admin.

Idempotent: each page is looked up by its slug and created only if it is missing, so running
it again leaves an existing guide (and editors' changes to it) as it is.
"""

import io

from django.contrib.auth import get_user_model
from django.core.files.images import ImageFile
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from wagtail.images.models import Image
from wagtail.models import Page, PageViewRestriction, Site

from trails.demo_images import draw_icon, draw_map, draw_photo
from trails.models import (
    ConditionsPage,
    HomePage,
    InfoPage,
    ReportFormField,
    ReportPage,
    TrailIndexPage,
    TrailPage,
    TrailPhoto,
)
from wagtail_offline.manifest import check_extra_url
from wagtail_offline.models import (
    OfflineBypassPrefix,
    OfflineExtraURL,
    OfflineSettings,
)

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "changeme"
RANGER_PASSWORD = "ranger"

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

# Not in the offline section: offline, readers get the fallback page instead.
COMING_SOON = {
    "title": "High Cup Nick",
    "slug": "high-cup-nick",
    "distance_km": "14.5",
    "ascent_m": 480,
    "difficulty": "hard",
    "summary": "Still being surveyed: a glacial valley with a rim of dark cliffs.",
    "steps": [
        "From Dufton, take the Pennine Way east up the lane.",
        "Follow the rim of the valley to its head at the Nick.",
    ],
}

# In the offline section but never published: the offline pages report lists it as a draft.
DRAFT_TRAIL = {
    "title": "Bleaklow Head",
    "slug": "bleaklow-head",
    "distance_km": "11.0",
    "ascent_m": 430,
    "difficulty": "hard",
    "summary": "Peat groughs, a bomber wreck and the head of the Derwent.",
    "steps": [
        "From the Snake Pass summit, follow the Pennine Way north.",
        "Cross the groughs to Bleaklow Head and the Wain Stones.",
    ],
}

GALLERY_CAPTIONS = ["Setting off", "On the tops", "The way back down"]

# The offline settings' inline lists: a file readers need besides the pages, and a path
# the worker must leave to the network.
EXTRA_URLS = ["/static/trails/gpx/fell-trails.gpx"]
BYPASS_PREFIXES = ["/api/"]

# "Report a path problem": saved for offline reading, and a report sent without signal is
# kept on the walker's phone and sent once they are back in range.
REPORT_FIELDS = [
    {
        "label": "Trail",
        "field_type": "dropdown",
        "choices": "\n".join(trail["title"] for trail in TRAILS) + "\nSomewhere else",
    },
    {
        "label": "Where",
        "field_type": "singleline",
        "help_text": "A landmark, a grid reference or the step of the directions.",
    },
    {
        "label": "What is wrong",
        "field_type": "multiline",
        "help_text": "A fallen wall, a missing waymark, a bridge washed away…",
    },
    {
        "label": "Your email",
        "field_type": "email",
        "required": False,
        "help_text": "Optional: only if you would like an answer from the rangers.",
    },
]

# The site's offline settings for readers: recently read pages, and the home-screen app.
RECENT_PAGES = 10
RECENT_PAGES_DAYS = 14
APP_NAME = "Fell Trails: walks for the high moors"
APP_SHORT_NAME = "Fell Trails"
THEME_COLOR = "#2f6f4f"
BACKGROUND_COLOR = "#f6f7f4"


class Command(BaseCommand):
    help = "Create the demo trail guide with generated images, offline settings and an admin."

    def handle(self, *args, **options):
        self.created = []
        home = self.ensure_home()
        trails = self.ensure_page(
            home,
            TrailIndexPage,
            title="Trails",
            slug="trails",
            intro="<p>Every route in the guide, with maps and photos. "
            "Open this page once with signal and all of them work offline.</p>",
            offline_available=True,
            offline_include_subpages=True,
            search_description="Every route in the guide, with maps and photos.",
        )
        for number, trail in enumerate(TRAILS):
            self.ensure_trail(trails, trail, number)
        notes = self.ensure_page(
            trails,
            InfoPage,
            title="Ranger notes",
            slug="ranger-notes",
            body="<p>Gate codes and the rangers' rota. Password protected, so it is "
            "never saved for offline reading, even though the trails beside it are.</p>",
        )
        # In the flagged section and deliberately broken: its template fails to render,
        # so the offline pages report has a failure to show.
        self.ensure_page(
            trails,
            ConditionsPage,
            title="Conditions on the tops",
            slug="conditions",
            intro="<p>Today's wind, cloud base and visibility, from the forecast "
            "service.</p>",
        )
        self.ensure_draft_trail(trails, DRAFT_TRAIL, len(TRAILS) + 1)
        PageViewRestriction.objects.get_or_create(
            page=notes,
            defaults={
                "restriction_type": PageViewRestriction.PASSWORD,
                "password": RANGER_PASSWORD,
            },
        )
        self.ensure_page(
            home,
            InfoPage,
            title="Safety on the hills",
            slug="safety",
            offline_available=True,
            search_description="What to carry, and who to call.",
            body="<p>Carry a map, a compass, water and a layer more than you think. "
            "Tell someone your route and when you will be back.</p>"
            "<p>In an emergency call 999 or 112, ask for the police, then mountain "
            "rescue. A text to 999 can get through where a call cannot, once your "
            "phone is registered for emergency SMS.</p>",
        )
        coming_soon = self.ensure_page(
            home,
            TrailIndexPage,
            title="Coming soon",
            slug="coming-soon",
            intro="<p>Routes still being surveyed. They are not saved for offline "
            "reading yet: offline, you get the “You're offline” page instead.</p>",
        )
        self.ensure_trail(coming_soon, COMING_SOON, len(TRAILS))
        fallback = self.ensure_page(
            home,
            InfoPage,
            title="You're offline",
            slug="offline-fallback",
            body="<p>This page was not saved for offline reading, and there is no "
            "signal to fetch it.</p>"
            '<p><a href="/offline/">See the pages you can read without signal</a>, '
            "or try again when you are back in range.</p>",
        )
        self.ensure_report_page(home)
        self.configure_offline(home, fallback)
        self.ensure_admin()
        self.report()
        self.rebuild_manifest()

    def ensure_home(self):
        """The guide's home page, made the default site's root in place of Wagtail's welcome page."""
        home = HomePage.objects.first()
        if home is None:
            home = Page.get_first_root_node().add_child(
                instance=HomePage(
                    title="Fell Trails",
                    slug="fell-trails",
                    intro="<p>Walks for the high moors, where the phone signal ends before "
                    "the path does. Save the trails before you leave, and read them on "
                    "the hill.</p>",
                )
            )
            self.created.append(home)
        site = Site.objects.filter(is_default_site=True).first()
        if site is None:
            site = Site(hostname="localhost", port=80, is_default_site=True)
        previous_root = site.root_page if site.root_page_id else None
        if previous_root is None or previous_root.pk != home.pk:
            site.root_page = home
            site.site_name = "Fell Trails"
            site.save()
            # Only Wagtail's own welcome page is removed: a plain Page right under the root.
            if (
                previous_root is not None
                and previous_root.depth == 2
                and previous_root.specific_class is Page
            ):
                previous_root.delete()
        return home

    def find(self, parent, slug, model):
        """The ``model`` page at ``slug`` below ``parent``, if the demo made it already."""
        page = parent.get_children().filter(slug=slug).specific().first()
        if page is not None and not isinstance(page, model):
            page.delete()  # An older demo had another kind of page here.
            return None
        return page

    def add(self, parent, page):
        page = parent.add_child(instance=page)
        self.created.append(page)
        return page

    def ensure_page(self, parent, model, **fields):
        return self.find(parent, fields["slug"], model) or self.add(
            parent, model(**fields)
        )

    def ensure_report_page(self, home):
        return self.ensure_page(
            home,
            ReportPage,
            title="Report a path problem",
            slug="report",
            offline_available=True,
            search_description="Tell the rangers about a problem on a trail.",
            intro="<p>Found a fallen wall, a missing waymark or a flooded path? Tell "
            "the rangers. No signal on the hill? Send it anyway: your phone keeps the "
            "report and sends it when you are back in range.</p>",
            thank_you_text="<p>Thank you: the rangers have your report.</p>",
            to_address="rangers@example.com",
            from_address="reports@example.com",
            subject="A path problem reported on Fell Trails",
            form_fields=[ReportFormField(**field) for field in REPORT_FIELDS],
        )

    def ensure_trail(self, parent, trail, number):
        return self.find(parent, trail["slug"], TrailPage) or self.add(
            parent, self.trail(trail, number)
        )

    def ensure_draft_trail(self, parent, trail, number):
        page = self.find(parent, trail["slug"], TrailPage)
        if page is None:
            draft = self.trail(trail, number)
            draft.live = False
            page = self.add(parent, draft)
            page.save_revision()
        return page

    def trail(self, trail, number):
        """An unsaved trail page with its map, lead photo and gallery drawn afresh."""
        title = trail["title"]
        return TrailPage(
            title=title,
            slug=trail["slug"],
            summary=trail["summary"],
            search_description=trail["summary"],
            distance_km=trail["distance_km"],
            ascent_m=trail["ascent_m"],
            difficulty=trail["difficulty"],
            directions="<ol>"
            + "".join(f"<li>{step}</li>" for step in trail["steps"])
            + "</ol>",
            map_image=self.image(f"Map: {title}", draw_map(number, title), "PNG"),
            photo=self.image(f"Photo: {title}", draw_photo(number * 4), "JPEG"),
            gallery_photos=[
                TrailPhoto(
                    image=self.image(
                        f"{title}: {caption}", draw_photo(number * 4 + position), "JPEG"
                    ),
                    caption=caption,
                )
                for position, caption in enumerate(GALLERY_CAPTIONS, start=1)
            ],
        )

    def image(self, title, picture, file_format):
        """A Wagtail image of ``picture``; maps stay PNG for crisp lines, photos are JPEG."""
        buffer = io.BytesIO()
        if file_format == "JPEG":
            picture.save(buffer, format="JPEG", quality=85, optimize=True)
        else:
            picture.save(buffer, format="PNG", optimize=True)
        slug = title.lower().replace(": ", "-").replace(" ", "-")
        name = f"{slug}.{'jpg' if file_format == 'JPEG' else 'png'}"
        return Image.objects.create(title=title, file=ImageFile(buffer, name=name))

    def configure_offline(self, home, fallback):
        site = Site.objects.get(root_page=home)
        offline_settings = OfflineSettings.for_site(site)
        if not offline_settings.enabled or offline_settings.fallback_page_id is None:
            offline_settings.enabled = True
            offline_settings.fallback_page = fallback
            offline_settings.save()
        if not offline_settings.extra_urls.exists():
            for url in EXTRA_URLS:
                problem = check_extra_url(site, url)
                if problem:
                    self.stderr.write(self.style.WARNING(problem))
                else:
                    OfflineExtraURL.objects.create(settings=offline_settings, url=url)
        if not offline_settings.bypass_prefixes.exists():
            for prefix in BYPASS_PREFIXES:
                OfflineBypassPrefix.objects.create(
                    settings=offline_settings, path=prefix
                )
        # Set once, with the icon: an editor's later changes to these are kept.
        if offline_settings.app_icon_id is None:
            offline_settings.reader_saving = True
            offline_settings.recent_pages = RECENT_PAGES
            offline_settings.recent_pages_days = RECENT_PAGES_DAYS
            offline_settings.app_name = APP_NAME
            offline_settings.app_short_name = APP_SHORT_NAME
            offline_settings.theme_color = THEME_COLOR
            offline_settings.background_color = BACKGROUND_COLOR
            offline_settings.app_icon = self.image("App icon", draw_icon(), "PNG")
            offline_settings.save()

    def ensure_admin(self):
        User = get_user_model()
        if not User.objects.filter(username=ADMIN_USERNAME).exists():
            User.objects.create_superuser(
                ADMIN_USERNAME, "admin@example.com", ADMIN_PASSWORD
            )
            self.stdout.write(
                f"Created the superuser {ADMIN_USERNAME} / {ADMIN_PASSWORD}."
            )

    def report(self):
        if self.created:
            titles = ", ".join(page.title for page in self.created)
            self.stdout.write(
                self.style.SUCCESS(f"Created {len(self.created)} pages: {titles}.")
            )
        else:
            self.stdout.write("The demo content is already there.")

    def rebuild_manifest(self):
        self.stdout.write(
            "“Conditions on the tops” fails to render on purpose, for the offline pages "
            "report: its traceback below is expected."
        )
        try:
            call_command("rebuild_offline_manifest", stdout=self.stdout)
        except CommandError as error:
            # The plugin may be older or half-installed; the guide itself is still usable.
            self.stderr.write(
                self.style.WARNING(f"Could not rebuild the offline manifest: {error}")
            )
