"""The plugin meets databases without its tables: migrate, checks, handlers, tag and views cope."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_scenario(name, tmp_path):
    output = tmp_path / "findings.json"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "WAGTAIL_OFFLINE_TEST_DB": str(tmp_path / "db.sqlite3"),
        "WAGTAIL_OFFLINE_TEST_MEDIA": str(tmp_path / "media"),
    }
    env.pop("WAGTAIL_OFFLINE_TEST_POSTGRES", None)  # A database of its own, always new.
    result = subprocess.run(
        [sys.executable, "-m", "tests.migration_scenarios", name, str(output)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    return json.loads(output.read_text())


UNCHECKED = "wagtail_offline.I001"
NOT_MIGRATED = {
    "page_status": 200,
    "registers_worker": False,
    "worker_status": 404,
    "worker_has_manifest": False,
}
WORKING = {
    "page_status": 200,
    "registers_worker": True,
    "worker_status": 200,
    "worker_has_manifest": True,
}


def test_migrate_on_an_empty_database_runs_its_checks_and_succeeds(tmp_path):
    findings = run_scenario("empty_database", tmp_path)
    # Django runs the database checks before it creates any table: ours says it waited.
    assert UNCHECKED in findings["migrate"]
    assert "Applying wagtail_offline.0001_initial... OK" in findings["migrate"]
    assert UNCHECKED not in findings["check_after"]


def test_migrating_the_plugin_to_zero_leaves_a_working_site(tmp_path):
    findings = run_scenario("plugin_removed_with_zero", tmp_path)
    assert findings["before"] == WORKING
    assert "Unapplying wagtail_offline.0001_initial... OK" in findings["zero"]
    assert UNCHECKED in findings["check_without_tables"]
    # Pages still render and publish; /sw.js answers 404, so old workers remove themselves.
    assert findings["without_tables"] == NOT_MIGRATED
    assert "Applying wagtail_offline.0001_initial... OK" in findings["migrate_again"]
    assert findings["offline_pages_after"] == ["/trails/", "/trails/ridge/"]


def test_a_site_with_pages_and_images_adds_the_plugin(tmp_path):
    findings = run_scenario("plugin_added_to_existing_site", tmp_path)
    assert "Applying wagtailimages" in findings["earlier_migrations"]
    assert "Applying wagtail_offline" not in findings["earlier_migrations"]
    assert UNCHECKED in findings["check_without_tables"]
    assert findings["without_tables"] == NOT_MIGRATED
    assert "Applying wagtail_offline.0002_manifest_payload... OK" in findings["migrate"]
    assert findings["offline_pages_after"] == ["/trails/", "/trails/ridge/"]
    assert findings["after"] == WORKING


def test_a_manifest_stored_whole_becomes_rows_and_stays_served(tmp_path):
    findings = run_scenario("manifest_stored_before_rows", tmp_path)
    assert "Applying wagtail_offline.0012_manifest_rows... OK" in findings["migrate"]
    assert findings["entries_kept"] and findings["pages_kept"]
    assert findings["parts_current"]
    assert findings["reader"] == WORKING
    # Its parts were not recorded: the next build writes them all.
    assert findings["parts_recorded_before"] == []
    assert findings["parts_recorded_after"]
    assert findings["offline_pages_after"] == ["/trails/", "/trails/ridge/"]
