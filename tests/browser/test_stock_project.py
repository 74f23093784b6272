"""A stock `wagtail start` project gets the plugin from a built wheel and reads offline in Chromium.

The README's "Adding it to a site" is followed as written: every line this test adds to the
project and every command it runs must appear verbatim in that section, so the README cannot
drift from what is tested. The project runs in an environment of its own where this checkout
is not importable, so a file missing from the wheel shows here.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.browser.offline import cached_urls, visit_and_wait_for_worker

REPO = Path(__file__).resolve().parents[2]
HELPERS = REPO / "tests" / "stock_project"
PLUGIN_WARNING = re.compile(r"\(wagtail_offline\.[EW]\d+\)")
FLAGGED = {
    "/": "Welcome to your new Wagtail site!",
    "/trails/": "Trails",
    "/trails/ridge/": "Ridge walk",
}


def readme_steps():
    text = (REPO / "README.md").read_text()
    start = text.index("## Adding it to a site")
    return text[start : text.index("\n### ", start)]


def from_readme(snippet):
    """A line of the README's steps, checked to be there as the test applies it."""
    assert snippet in readme_steps(), (
        f'The README\'s "Adding it to a site" no longer says {snippet!r}; '
        "change this test together with it."
    )
    return snippet


def readme_file(site, name):
    """A file of the stock project that the README's steps name as the one to change."""
    from_readme(f"# {name}")
    return site / name


def run(argv, cwd, env, timeout=120):
    result = subprocess.run(
        [str(arg) for arg in argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(map(str, argv))} failed:\n{output}"
    return output


def project_environment():
    """The caller's environment without anything that would point at this checkout."""
    dropped = ("PYTHON", "DJANGO_", "VIRTUAL_ENV", "WAGTAIL_OFFLINE_")
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(dropped)
    }


def edit_lines(path, anchor, new_line, *, before=False):
    """Insert ``new_line`` next to the one line of ``path`` that reads ``anchor``."""
    lines = path.read_text().splitlines()
    found = [i for i, line in enumerate(lines) if line.strip() == anchor.strip()]
    assert len(found) == 1, f"{path.name} has no single line {anchor!r}"
    lines.insert(found[0] if before else found[0] + 1, new_line)
    path.write_text("\n".join(lines) + "\n")


def add_mixin(path, page_class):
    """The README's model change, made to ``page_class`` as it is made to HomePage there."""
    edit_lines(
        path,
        "from wagtail.models import Page",
        from_readme("from wagtail_offline.models import OfflinePageMixin"),
    )
    class_line = from_readme("class HomePage(OfflinePageMixin, Page):")
    class_line = class_line.replace("HomePage", page_class)
    text = path.read_text()
    assert f"class {page_class}(Page):" in text
    path.write_text(text.replace(f"class {page_class}(Page):", class_line))
    edit_lines(
        path,
        class_line,
        from_readme(
            "    promote_panels = Page.promote_panels + OfflinePageMixin.offline_panels"
        ),
    )


def build_wheel_in_copy(root, env):
    """Start the README's ``python -m build`` in a copy of the checkout; it runs while the site is made.

    The copy holds what a clone has at its top and the package itself; the build writes
    its dist/ and egg-info there, not here.
    """
    checkout = root / "wagtail-offline"
    checkout.mkdir()
    for path in REPO.iterdir():
        if path.is_file():
            shutil.copy2(path, checkout / path.name)
    shutil.copytree(
        REPO / "wagtail_offline",
        checkout / "wagtail_offline",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    command = from_readme("python -m build").split()
    log_path = root / "build.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, *command[1:]],
            cwd=checkout,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return checkout, process, log_path


def make_environment(root):
    """A virtualenv that imports what this test run imports, except this checkout.

    The directories go in through a .pth file, which puts them on sys.path after the new
    environment's own site-packages without running the .pth files inside them: the
    editable install's import hook for this checkout stays out.
    """
    env_dir = root / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", env_dir], check=True)
    python = env_dir / "bin" / "python"
    site_packages = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = [
        path
        for path in dict.fromkeys(sys.path)
        if path and Path(path).is_dir() and Path(path).resolve() != REPO
    ]
    (Path(site_packages) / "test-run-packages.pth").write_text("\n".join(ours) + "\n")
    return env_dir, python


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_server(url, server, log_path, timeout=30):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, f"runserver exited:\n{log_path.read_text()}"
        try:
            opener.open(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # It answers; the tests say whether the answer is right.
        except OSError:
            time.sleep(0.2)
    raise AssertionError(
        f"runserver did not answer in {timeout}s:\n{log_path.read_text()}"
    )


def make_existing_site(root, python, env):
    """What `wagtail start` makes, migrated as its instructions say: a site before the plugin."""
    site = root / "mysite"
    site.mkdir()
    wagtail = Path(sys.executable).with_name("wagtail")
    run([wagtail, "start", "mysite", site], cwd=root, env=env)
    run([python, "manage.py", "migrate"], cwd=site, env=env)
    return site


def add_a_page_type_with_a_photo(site):
    """The site's own work: an article page type with an image, in an app of its own."""
    shutil.copytree(HELPERS / "articles", site / "articles")
    edit_lines(site / "mysite/settings/base.py", '"search",', '    "articles",')


def install_wheel(checkout, python, env):
    wheels = sorted((checkout / "dist").glob("wagtail_offline-*.whl"))
    assert len(wheels) == 1, f"Expected one wheel in dist/, found {wheels}"
    pip_install = from_readme("pip install dist/wagtail_offline-*.whl").split()
    # Its dependencies are the test run's packages. --ignore-installed: where the test run
    # has the plugin installed too (a tox environment), pip must not take that copy for this.
    run(
        [
            python,
            "-m",
            *pip_install[:2],
            "--no-index",
            "--no-deps",
            "--ignore-installed",
        ]
        + [wheels[0]],
        cwd=checkout.parent,
        env=env,
    )


def add_the_plugin_as_the_readme_says(site):
    with readme_file(site, "mysite/settings/base.py").open("a") as settings:
        settings.write(
            from_readme(
                'INSTALLED_APPS += ["wagtail.contrib.settings", "wagtail_offline"]'
            )
            + "\n"
        )
    edit_lines(
        readme_file(site, "mysite/urls.py"),
        'path("", include(wagtail_urls)),',
        from_readme(
            '    path("", include("wagtail_offline.urls")),  '
            "# /sw.js and the offline listing at /offline/"
        ),
        before=True,
    )
    add_mixin(readme_file(site, "home/models.py"), "HomePage")
    add_mixin(site / "articles/models.py", "ArticlePage")
    base_template = readme_file(site, "mysite/templates/base.html")
    edit_lines(
        base_template,
        "{% load static wagtailcore_tags wagtailuserbar %}",
        from_readme("{% load wagtail_offline %}"),
    )
    edit_lines(
        base_template, "</head>", from_readme("  {% offline_head %}"), before=True
    )


def start_server(python, site, env, log_path):
    port = free_port()
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=site,
            env={
                **env,
                "PYTHONUNBUFFERED": "1",
            },  # Its log in order, up to the last line.
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return server, f"http://127.0.0.1:{port}"


def stop_server(server, log_path):
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    # pytest shows this only when a test failed.
    print(f"--- runserver log ---\n{log_path.read_text()}")


@pytest.fixture(scope="module")
def stock_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("stock-project")
    env = project_environment()
    checkout, build, build_log = build_wheel_in_copy(root, env)
    try:
        env_dir, python = make_environment(root)
        site = make_existing_site(root, python, env)
        assert build.wait(timeout=180) == 0, (
            f"The build failed:\n{build_log.read_text()}"
        )
    finally:
        if build.poll() is None:
            build.kill()
            build.wait()
    add_a_page_type_with_a_photo(site)
    install_wheel(checkout, python, env)
    plugin_file = run(
        [python, "-c", "import wagtail_offline; print(wagtail_offline.__file__)"],
        cwd=site,
        env=env,
    ).strip()

    add_the_plugin_as_the_readme_says(site)
    outputs = {}
    for command in (
        "python manage.py makemigrations",
        "python manage.py migrate",
        "python manage.py rebuild_offline_manifest",
    ):
        argv = [python, *from_readme(command).split()[1:]]
        outputs[command] = run(argv, cwd=site, env=env)

    server_log = root / "runserver.log"
    server, url = start_server(python, site, env, server_log)
    try:
        # The editors' work, while the site runs: pages published, some "Available offline".
        content = (HELPERS / "make_content.py").read_text()
        run([python, "manage.py", "shell", "-c", content], cwd=site, env=env)
        wait_for_server(url + "/", server, server_log)
        yield {
            "url": url,
            "env": env_dir,
            "plugin_file": Path(plugin_file),
            "outputs": outputs,
            "server_log": server_log,
        }
    finally:
        stop_server(server, server_log)


def test_the_site_runs_the_plugin_installed_from_the_wheel(stock_site):
    plugin_file = stock_site["plugin_file"]
    assert plugin_file.is_relative_to(stock_site["env"])
    assert not plugin_file.is_relative_to(REPO)


def test_the_readme_steps_migrate_the_page_types_with_no_offline_warnings(stock_site):
    makemigrations = stock_site["outputs"]["python manage.py makemigrations"]
    assert "Add field offline_available to homepage" in makemigrations
    migrate = stock_site["outputs"]["python manage.py migrate"]
    assert "Applying wagtail_offline.0001_initial... OK" in migrate
    assert not PLUGIN_WARNING.search(migrate)
    assert not PLUGIN_WARNING.search(stock_site["server_log"].read_text())


def test_flagged_pages_render_offline_with_their_photos(page, stock_site):
    base = stock_site["url"]
    visit_and_wait_for_worker(page, base + "/")
    page.context.set_offline(True)

    for path, heading in FLAGGED.items():
        response = page.goto(base + path)
        assert response.status == 200 and response.from_service_worker, path
        assert page.locator("h1").inner_text() == heading
    for path, text in (
        ("/trails/", "Every walk on the fells, with its map."),
        ("/trails/ridge/", "Along the ridge to the summit cairn."),
    ):
        page.goto(base + path)
        assert text in page.locator("main").inner_text()
        width = page.eval_on_selector(
            "img.photo", "img => img.complete && img.naturalWidth"
        )
        assert width == 480, path


def test_cache_storage_holds_the_flagged_pages_and_nothing_of_the_others(
    page, stock_site
):
    visit_and_wait_for_worker(page, stock_site["url"] + "/")
    urls = cached_urls(page)
    assert set(FLAGGED) | {"/offline/", "/offline/unavailable/"} <= urls
    assert "/news/" not in urls
    assert {"/static/css/mysite.css", "/static/js/mysite.js"} <= urls
    photos = {url for url in urls if url.startswith("/media/images/")}
    assert {url.split("/")[-1].split(".")[0] for url in photos} == {"fells", "ridge"}


def test_the_offline_listing_works_offline(page, stock_site):
    base = stock_site["url"]
    visit_and_wait_for_worker(page, base + "/")
    page.context.set_offline(True)
    response = page.goto(base + "/offline/")
    assert response.status == 200 and response.from_service_worker
    assert page.locator("h1").inner_text() == "Available offline"
    # The listed pages; the listing also links back to the home page.
    links = page.locator("main section a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert sorted(links) == sorted(FLAGGED)


def test_an_unflagged_page_shows_the_fallback_page_offline(page, stock_site):
    base = stock_site["url"]
    visit_and_wait_for_worker(page, base + "/")
    page.context.set_offline(True)
    response = page.goto(base + "/news/")
    assert response.status == 503
    assert page.locator("h1").inner_text() == "You are offline"
