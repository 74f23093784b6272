from django.core.management.base import BaseCommand, CommandError
from wagtail.models import Site

from ... import manifest_store
from ...checks import rebuild_blockers
from ...frontend_cache import purge_if_changed
from ...manifest import ManifestError, preview_site_manifest, rebuild_site_manifest
from ...models import OfflineManifest

KINDS = ("page", "document", "asset", "fallback", "listing", "queued")


def kib(size):
    return f"{size / 1024:,.1f} KiB"


class Command(BaseCommand):
    help = (
        "Re-render every offline page and rebuild the offline manifest of each site. "
        "Run it after a deploy (with --if-static-changed) and to see what ships (--dry-run)."
    )

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
        parser.add_argument(
            "--if-static-changed",
            action="store_true",
            help="Only rebuild sites whose static files changed since their last build (a deploy step).",
        )

    def handle(
        self, *args, site=None, dry_run=False, if_static_changed=False, **options
    ):
        self.check_configuration()
        failed = []
        for each in self.sites(site):
            if if_static_changed and not self.static_changed(each):
                self.stdout.write(f"{each}: static files unchanged, nothing to do.")
                continue
            try:
                if dry_run:
                    self.dry_run(each)
                else:
                    manifest = rebuild_site_manifest(each, progress=self.progress)
                    self.summarise(each, manifest)
                    problem = purge_if_changed(each)
                    if problem:
                        self.stderr.write(self.style.WARNING(f"{each}: {problem}"))
            except ManifestError as error:
                self.stderr.write(self.style.ERROR(f"{each}: {error}"))
                failed.append(str(each))
        if failed:
            raise CommandError(f"No manifest could be built for {', '.join(failed)}.")

    def check_configuration(self):
        """Stops with the system checks' own words where a rebuild would crash or be useless."""
        blockers = rebuild_blockers()
        if blockers:
            raise CommandError(
                "\n".join(f"{e.msg}\n  {e.hint} ({e.id})" for e in blockers)
            )

    def sites(self, wanted):
        sites = Site.objects.select_related("root_page").order_by("hostname", "port")
        if not wanted:
            return list(sites)
        matching = [s for s in sites if s.hostname in wanted or str(s.pk) in wanted]
        if not matching:
            raise CommandError(f"No site matches {', '.join(wanted)}.")
        return matching

    def static_changed(self, site):
        manifest = OfflineManifest.objects.filter(site=site).first()
        if manifest is None:
            return True
        return manifest_store.static_files_changed(manifest)

    def progress(self, number, total, page):
        self.stdout.write(f"  page {number}/{total}: {page.title}")

    def summarise(self, site, manifest):
        self.stdout.write(
            self.style.SUCCESS(
                f"{site}: {self.sizes(manifest)}; version {manifest.version}"
            )
        )
        for problem in manifest.problems:
            self.stdout.write(self.style.WARNING(f"  left out: {problem['message']}"))

    def sizes(self, manifest):
        """'3 pages (12.0 KiB), 9 assets (80.2 KiB), …, 92.2 KiB in all'."""
        by_kind = manifest_store.size_by_kind(manifest)
        parts = []
        for kind in KINDS:
            if kind in by_kind:
                count, size = by_kind[kind]
                parts.append(f"{count} {kind}{'s' if count != 1 else ''} ({kib(size)})")
        total = sum(size for _, size in by_kind.values())
        return f"{', '.join(parts)}, {kib(total)} in all"

    def dry_run(self, site):
        preview = preview_site_manifest(site, progress=self.progress)
        self.stdout.write(f"{site} would ship:")
        for entry in manifest_store.entries(preview.manifest):
            if entry["kind"] != "asset":
                self.stdout.write(
                    f"  {entry['kind']:<9} {entry['url']}  {kib(entry['size'])}"
                )
        self.stdout.write(f"  {self.sizes(preview.manifest)}")
        if preview.excluded or preview.manifest.problems:
            self.stdout.write(f"{site} leaves out:")
        for page, reason in preview.excluded:
            self.stdout.write(self.style.WARNING(f"  “{page.title}”: {reason}"))
        for problem in preview.manifest.problems:
            self.stdout.write(self.style.WARNING(f"  {problem['message']}"))
        self.stdout.write("Dry run: nothing was stored.")
