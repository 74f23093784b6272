from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from wagtail.models import Site

from ...manifest import rebuild_site_manifest


class DryRun(Exception):
    pass


class Command(BaseCommand):
    help = "Re-render every offline page and rebuild the offline manifest of each site."

    def add_arguments(self, parser):
        parser.add_argument(
            "--site",
            action="append",
            help="Hostname (or id) of a site to rebuild; repeat for several. Default: all sites.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Show what would be offline and what was left out, without storing anything.",
        )

    def handle(self, *args, site=None, dry_run=False, **options):
        sites = Site.objects.select_related("root_page").order_by("hostname", "port")
        if site:
            wanted = [s for s in sites if s.hostname in site or str(s.pk) in site]
            if not wanted:
                raise CommandError(f"No site matches {', '.join(site)}.")
            sites = wanted
        for each in sites:
            try:
                with transaction.atomic():
                    manifest = rebuild_site_manifest(each)
                    self.summarise(each, manifest)
                    if dry_run:
                        raise DryRun
            except DryRun:
                self.stdout.write("Dry run: nothing was stored.")

    def summarise(self, site, manifest):
        pages = [e for e in manifest.entries if e["kind"] != "asset"]
        self.stdout.write(
            self.style.SUCCESS(
                f"{site}: {len(pages)} pages and {len(manifest.entries) - len(pages)} assets, "
                f"{manifest.size / 1024:.1f} KiB, version {manifest.version}"
            )
        )
        for problem in manifest.problems:
            self.stdout.write(self.style.WARNING(f"  left out: {problem['message']}"))
