"""Asset discovery on hostile input, as properties that hypothesis tries to break:
nothing crashes, nothing outside the static and media roots is read, nothing
cross-origin is fetched, and the scanners take time linear in their input.

Example-based cases of the same concerns are in test_hostile_urls.py (spellings of
private files), test_css_scan.py and test_html_scan.py (what the scanners find).
"""

import builtins
import gc
import html
import io
import os
import re
import time
from contextlib import contextmanager
from unittest import mock
from urllib.parse import urlsplit

import hypothesis
import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from hypothesis import HealthCheck, example, given
from hypothesis import strategies as st

from tests.testapp.models import StandardPage
from wagtail_offline import paths, rendering
from wagtail_offline.assets import (
    parse_srcset,
    same_origin_paths,
    urls_in_css,
    urls_in_html,
)
from wagtail_offline.manifest import rebuild_site_manifest
from wagtail_offline.paths import base_url, canonical_path, served_path

ORIGIN = "http://localhost"
PAGE_URL = ORIGIN + "/trails/ridge/"
# In the path of every cross-origin URL generated, and of every URL that needs nothing:
# no fetch and no entry may ever hold them.
FOREIGN_MARKER = "zz-foreign"
NOTHING_MARKER = "zz-nothing"
# What a URL that climbs out of the media or static root would reach.
SECRET = "secret.css"

# ---------- Hostile URLs ----------

# Every spelling of a dot segment browsers or servers resolve, and look-alikes they do not.
DOT_SEGMENTS = [
    "..",
    ".",
    "%2e",
    "%2E",
    "%2e%2e",
    "%2E%2e",
    "%2e%2E",
    ".%2E",
    "%2e.",
    "..%2F",
    "%2e%2e%2f",
    "..%5C",
    "%2E%2E%5c",
    "..\\",
    "%252e%252e",
    "%%32%65",
    "...",
]
ODD_SEGMENTS = [
    "",
    "a",
    "css",
    SECRET,
    "café.png",
    "a b",
    "%",
    "%zz",
    "%00",
    "\x00",
    "[",
    "]",
    "@",
    ":",
    ";",
    "\ufffd",
    "\u00a0",
    "\u3002",
    "wagtailadmin",
]
SEPARATORS = ["/", "\\", "//", "/\\", "%2F", "%5C", "/./"]
STARTS = [
    "",
    "/",
    "./",
    "../",
    "\\",
    "?",
    "/media/",
    "/media/css/",
    "/static/",
    "/static/site/",
    "/static/wagtailadmin/",
    "http:",
    "http:/",
    "HTTP://LOCALHOST:80/",
    "//localhost/",
    "\\\\localhost\\",
    "http:\\\\localhost.\\",
]
TAILS = ["", "?v=1", "?../..", "#x/../..", "?a#b", "?%2e%2e/"]

segments = st.one_of(st.sampled_from(DOT_SEGMENTS + ODD_SEGMENTS), st.text(max_size=6))


@st.composite
def local_references(draw):
    """References to this site, full of dot segments, separators and odd characters."""
    start = draw(st.sampled_from(STARTS))
    parts = draw(st.lists(st.tuples(segments, st.sampled_from(SEPARATORS)), max_size=8))
    last = draw(segments)
    return (
        start + "".join(a + b for a, b in parts) + last + draw(st.sampled_from(TAILS))
    )


@st.composite
def climbing_references(draw):
    """References that try to climb out of the media or static root to a file beside it."""
    start = draw(st.sampled_from(["/media/", "/media/css/", "/static/", "/static/a/"]))
    climb = draw(
        st.lists(
            st.tuples(st.sampled_from(DOT_SEGMENTS), st.sampled_from(SEPARATORS)),
            min_size=1,
            max_size=4,
        )
    )
    return start + "".join(a + b for a, b in climb) + SECRET


# (authority, the origin it names) for references that leave the site.
FOREIGN_AUTHORITIES = [
    ("other.host", ("http", "other.host", 80)),
    ("OTHER.Host", ("http", "other.host", 80)),
    ("other.host:8080", ("http", "other.host", 8080)),
    ("localhost:8000", ("http", "localhost", 8000)),
    ("localhost@other.host", ("http", "other.host", 80)),
    ("localhost:80@other.host", ("http", "other.host", 80)),
    ("[::1]", ("http", "::1", 80)),
    ("127.0.0.1", ("http", "127.0.0.1", 80)),
]
slash_runs = st.text(alphabet="/\\", min_size=2, max_size=4)


@st.composite
def foreign_references(draw):
    """(reference, (scheme, host, port)) for references a browser resolves to another
    origin: scheme-relative with any mix of slashes and backslashes, absolute, https."""
    authority, (scheme, host, port) = draw(st.sampled_from(FOREIGN_AUTHORITIES))
    form = draw(st.sampled_from(["relative", "http", "https"]))
    if form == "relative":
        start = draw(slash_runs)
    elif form == "http":
        start = draw(st.sampled_from(["http:", "HTTP:", "hTtP:"])) + draw(slash_runs)
    else:  # Another scheme: another origin, even for this host, slashes or not.
        start = draw(st.sampled_from(["https:", "HTTPS:"]))
        start += draw(st.text(alphabet="/\\", max_size=3))
        scheme, port = "https", 443 if port == 80 else port
        if draw(st.booleans()):
            authority, host, port = "localhost", "localhost", 443
    end = draw(st.sampled_from(["/", "\\", "?"]))
    path = draw(st.lists(segments, max_size=3))
    reference = start + authority + end + FOREIGN_MARKER + "/" + "/".join(path)
    # Browsers drop tabs and newlines anywhere, and C0 controls and spaces around.
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(reference)))
        reference = reference[:at] + draw(st.sampled_from("\t\n\r")) + reference[at:]
    padding = st.text(alphabet="\x00\x01\x1f \t\n", max_size=2)
    return draw(padding) + reference + draw(padding), (scheme, host, port)


# Authorities that no URL parser accepts, or that only some accept.
ODD_AUTHORITIES = [
    "[",
    "]",
    "[::1",
    "a]b",
    "[::1]x",
    "x\u2100y",
    "x\uff03y@localhost",
    "localhost:99999",
    "localhost:-1",
    "localhost:8o",
    "local host",
    "local%68ost",
    "ｌｏｃａｌｈｏｓｔ",
    "",
    "@",
    ":",
]


@st.composite
def odd_authority_references(draw):
    start = draw(st.sampled_from(["", "http:", "https:", "HTTP:"])) + draw(slash_runs)
    authority = draw(st.sampled_from(ODD_AUTHORITIES))
    return (
        start + authority + draw(st.sampled_from(["", "/", "\\", "?"])) + draw(segments)
    )


NEEDS_NOTHING = [
    f"javascript:fetch('/{NOTHING_MARKER}')",
    f"JaVaScRiPt:location='//{NOTHING_MARKER}'",
    f"java\tscript:alert('/{NOTHING_MARKER}')",
    f"\x01javascript:x('/{NOTHING_MARKER}')",
    f" data:text/css,@import '/{NOTHING_MARKER}.css'",
    f"DATA:image/svg+xml,<svg><image href='/{NOTHING_MARKER}'/></svg>",
    f"blob:http://localhost/{NOTHING_MARKER}",
    f"about:{NOTHING_MARKER}",
    f"mailto:{NOTHING_MARKER}@localhost",
    f"tel:{NOTHING_MARKER}",
    f"#{NOTHING_MARKER}",
    f" #/../{NOTHING_MARKER}",
]

# Characters that mean something to the HTML, CSS or URL parsers, for text soup.
HOSTILE_CHARACTERS = "<>!-?/\\\"'=&#;:@[](){}*%.,u rlURL\t\n\r\f\x00\u00a0\ufffd"
# Pieces of markup, in any order: unclosed tags, comments and strings, nesting, NULs.
SOUP_PIECES = [
    "<",
    "</",
    "<!--",
    "-->",
    "--!>",
    "<!",
    "<?",
    ">",
    '"',
    "'",
    "=",
    "&",
    "&#x",
    "&amp",
    ";",
    "<img src=",
    "<img srcset=",
    "<link rel=stylesheet href=",
    "<base href=",
    "<source srcset='",
    '<div style="',
    "<style>",
    "</style>",
    "<script>",
    "</script",
    "<textarea>",
    "<plaintext>",
    "<div>",
    "url(",
    "uRl('",
    ")",
    "@import ",
    "/*",
    "*/",
    "\\",
    "\\29 ",
    "\x00",
    "\r\n",
    "{",
    "}",
    " 1x, ",
    ",",
    "(",
    "//other.host/x",
    "../",
    "%2e%2e/",
    "javascript:",
    "data:,",
    "a",
]
soup = st.one_of(
    st.lists(st.sampled_from(SOUP_PIECES), max_size=40).map("".join),
    st.text(alphabet=HOSTILE_CHARACTERS, max_size=200),
    st.text(max_size=100),
)
any_reference = st.one_of(
    local_references(),
    climbing_references(),
    odd_authority_references(),
    foreign_references().map(lambda pair: pair[0]),
    st.sampled_from(NEEDS_NOTHING),
    st.text(alphabet=HOSTILE_CHARACTERS, max_size=40),
    st.text(max_size=40),
)


def assert_is_a_canonical_path(path):
    """A path on this origin, in the one spelling the rules, the storage and the worker use."""
    assert path.startswith("/") and not path.startswith("//"), path
    assert canonical_path(path, ORIGIN + "/") == path, path
    assert not any(char <= " " or char == "\x7f" for char in path), path
    path_segments = path.split("?", 1)[0].lower().split("/")
    assert not set(path_segments) & {".", "..", "%2e", ".%2e", "%2e.", "%2e%2e"}, path


def assert_never_climbs(served):
    """A decoded path with no segment that servers or file systems resolve."""
    assert served.startswith("/"), served
    assert "\\" not in served and "\x00" not in served and "//" not in served, served
    assert not {".", ".."} & set(served.split("/")), served


def is_under(path, roots):
    return any(path == root or path.startswith(root + os.sep) for root in roots)


def origin_of(url):
    """(scheme, host, port) of an absolute URL, or None."""
    try:
        parts = urlsplit(url)
        default_port = {"http": 80, "https": 443}.get(parts.scheme)
        return (parts.scheme, parts.hostname, parts.port or default_port)
    except ValueError:
        return None


# ---------- Properties of the pure functions ----------


@hypothesis.settings(max_examples=300, deadline=None)
@given(any_reference, st.sampled_from([PAGE_URL, ORIGIN + "/", ORIGIN + "/a?b"]))
@example("//[", PAGE_URL)
@example("http://[::1/x", PAGE_URL)
@example("//a]/x", PAGE_URL)
@example("//x\u2100y/", PAGE_URL)
@example("http://x\uff03y@localhost/", PAGE_URL)
def test_a_path_found_on_a_page_is_canonical_and_never_climbs(reference, page_url):
    local, foreign = same_origin_paths([reference], page_url, ORIGIN)

    assert len(local) + len(foreign) <= 1
    for path in local:
        assert_is_a_canonical_path(path)
        served = served_path(path)
        if served is not None:
            assert_never_climbs(served)
    for url in foreign:  # Reported as another site's URL, never as a path.
        assert not url.startswith("/"), url


@hypothesis.settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        any_reference,
        st.text(alphabet="/.?=&~_-aZ9%", max_size=24).map(lambda text: "/" + text),
    ),
    st.sampled_from([PAGE_URL, ORIGIN + "/", "http://other.host/"]),
)
@example("/a/..", PAGE_URL)
@example("/a/.?x", PAGE_URL)
@example("/a//b", PAGE_URL)
def test_a_plain_path_is_its_own_canonical_form_only_where_the_long_way_agrees(
    reference, page_url
):
    found = canonical_path(reference, page_url, ORIGIN)
    with mock.patch.object(paths, "PLAIN_PATH", re.compile("(?!)")):
        assert found == canonical_path(reference, page_url, ORIGIN)


@hypothesis.settings(max_examples=200, deadline=None)
@given(any_reference, any_reference)
@example("//[", "a.png")
@example("\\\\other.host\\", "a.png")
@example(f"blob:http://localhost/{NOTHING_MARKER}", "/a.png")
def test_any_base_href_keeps_paths_canonical_and_foreign_urls_absolute(
    base_href, reference
):
    base = base_url(PAGE_URL, base_href)

    local, foreign = same_origin_paths([reference], base, ORIGIN)

    for path in local:
        assert_is_a_canonical_path(path)
    for url in foreign:
        assert not url.startswith("/"), url


@pytest.mark.parametrize(
    "base_href, expected",
    [
        ("//[", PAGE_URL),  # Browsers ignore a base they cannot parse.
        ("http://localhost:99999/", PAGE_URL),
        ("\\\\other.host\\a\\", "http://other.host/a/"),
        ("/a/%2e%2e/b/", ORIGIN + "/b/"),
        ("http:/b/", ORIGIN + "/b/"),
        ("https:other.host/a/", "https://other.host/a/"),
        ("?page=2", PAGE_URL + "?page=2"),
    ],
)
def test_a_base_href_is_resolved_as_browsers_resolve_it(base_href, expected):
    assert base_url(PAGE_URL, base_href) == expected


@hypothesis.settings(max_examples=200, deadline=None)
@given(foreign_references(), st.sampled_from([PAGE_URL, ORIGIN + "/"]))
def test_a_cross_origin_reference_is_foreign_and_names_its_origin(pair, page_url):
    reference, origin = pair

    local, foreign = same_origin_paths([reference], page_url, ORIGIN)

    assert local == []
    assert [origin_of(url) for url in foreign] == [origin], foreign


@pytest.mark.parametrize("reference", NEEDS_NOTHING)
def test_a_reference_that_loads_nothing_is_neither_local_nor_foreign(reference):
    assert same_origin_paths([reference], PAGE_URL, ORIGIN) == ([], [])


@hypothesis.settings(max_examples=300, deadline=None)
@given(st.one_of(local_references(), climbing_references(), st.text(max_size=60)))
@example("/media/%2e%2e%2fsecret.css")
@example("/static/%2E%2e/%2e%2E\\..%5Csecret.css")
def test_a_served_path_never_leaves_the_media_root(path):
    served = served_path(path)
    if served is None:
        return
    assert_never_climbs(served)
    if served.startswith("/media/"):
        resolved = os.path.normpath(
            os.path.join("/srv/media", served[len("/media/") :])
        )
        assert is_under(resolved, ["/srv/media"]), served


@hypothesis.settings(max_examples=300, deadline=None)
@given(soup)
def test_scanners_survive_any_text(text):
    found = urls_in_html(text)
    from_css = urls_in_css(text)
    from_srcset = parse_srcset(text)

    assert found.base is None or isinstance(found.base, str)
    for url in found.subresources + found.links + from_css + from_srcset:
        assert isinstance(url, str) and url
    local, _ = same_origin_paths(found.subresources + from_css, PAGE_URL, ORIGIN)
    for path in local:
        assert_is_a_canonical_path(path)


# Markup that ends where it began, in the data state, with URLs that are not loaded.
CLOSED_HTML = [
    "<!-- <img src=/zz-hidden> -->",
    "<!--->",
    "<!---->",
    "<!-- a --!>",
    "<!DOCTYPE html>",
    "<?xml <img src=/zz-hidden>?>",
    '</p title="<img src=/zz-hidden>">',
    "<script>document.write('<img src=/zz-hidden>')</script>",
    "<style>/* url(/zz-hidden) */ a { content: 'url(/zz-hidden)' }</style>",
    "<textarea><img src=/zz-hidden></textarea>",
    "<title><img src=/zz-hidden></title>",
    "<div title='&amp;&lt;&#0;&#x110000;&bogus;'>",
    "<p>& < 3 > 2 </ p>",
    "<br/><x-y a=b c='d' e=\"f\"/>",
    "<div\nclass=a\tid=b>",
    "<div>" * 50,
    "</div>" * 50,
    "<img><img src><img src=''>",
    "<p>" + "x" * 5000 + "</p>",
    "<a href=/zz-link>",
]


def html_tag(url):
    return f'<img src="{html.escape(url)}">'


def as_in_html(url):
    """``url`` as a browser's input stream delivers it."""
    return url.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")


@hypothesis.settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(CLOSED_HTML), max_size=3),
            st.text(min_size=1),
        ),
        max_size=8,
    )
)
def test_every_url_is_found_among_hostile_markup(pieces):
    page = "".join("".join(noise) + html_tag(url) for noise, url in pieces)

    found = urls_in_html(page)

    assert found.subresources == [as_in_html(url) for _, url in pieces]


# CSS that ends where it began, between tokens, with URLs that are not loaded.
CLOSED_CSS = [
    "/* url(zz-hidden) @import 'zz-hidden'; */",
    'a { content: "url(zz-hidden)" }',
    "b { content: '\\'url(zz-hidden)' }",
    "@media print { c { color: red } }",
    "d { background: url(a b) }",
    "e\\75 rl",
    "#url(zz-hidden)",
    "@url(zz-hidden)",
    "-url(zz-hidden)",
    "<!-- -->",
    "\\\n",
    "{{{{[[((( ",
    ")))]]}}}} ",
    "\x00",
    "x" * 5000,
]


def css_string(url):
    """``url`` as a CSS string: quotes, backslashes and newlines escaped."""
    escaped = url.replace("\\", "\\\\").replace('"', '\\"')
    for char, escape in (
        ("\n", "\\a "),
        ("\r", "\\d "),
        ("\f", "\\c "),
        ("\x00", "\\0 "),
    ):
        escaped = escaped.replace(char, escape)
    return f'"{escaped}"'


@hypothesis.settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(CLOSED_CSS), max_size=3),
            st.sampled_from(
                ["url({})", "url( {} )", "@import {};", "@import url({});"]
            ),
            st.text(),
        ),
        max_size=8,
    )
)
def test_every_url_is_found_among_hostile_css(pieces):
    css = " ".join(
        " ".join(noise) + " " + form.format(css_string(url))
        for noise, form, url in pieces
    )

    expected = [url.replace("\x00", "\ufffd").strip() for _, _, url in pieces]
    assert urls_in_css(css) == [url for url in expected if url]


srcset_urls = st.text(min_size=1).filter(
    lambda url: (
        not url.startswith(",")
        and not url.endswith(",")
        and not set(url) & set(" \t\n\f\r")
    )
)
DESCRIPTORS = ["", " 1x", " 2.5x", "  100w ", " 1x (a, b)", " (,)", " ((,))", " x) (,)"]


@hypothesis.settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(srcset_urls, st.sampled_from(DESCRIPTORS)), max_size=8))
@example([("/a\u00a0b.jpg", " 1x")])
@example([("/a.jpg", " ((,)"), ("/b.jpg", "")])
def test_every_srcset_candidate_is_found(candidates):
    srcset = ", ".join(url + descriptor for url, descriptor in candidates)

    assert parse_srcset(srcset) == [url for url, _ in candidates]


# ---------- The build: what it reads and what it fetches ----------


@contextmanager
def recorded_reads(monkeypatch):
    """(files opened, URLs fetched) while the block runs: every storage open, static
    file found and ``open`` by the storage reader; every page rendered and asset read.

    ``open`` is recorded inside the reader only: elsewhere Django and Python open their
    templates, translations and tables once per process, whenever they first need them.
    """
    from django.core.files.storage import Storage

    opened, fetched, reading = [], [], []
    real_open, real_storage_open, real_find = builtins.open, Storage.open, finders.find
    real_get, real_read = rendering.AnonymousClient.get, rendering._open_from_storage

    def recording_open(file, *args, **kwargs):
        if reading and isinstance(file, (str, bytes, os.PathLike)):
            opened.append(os.path.realpath(os.fsdecode(file)))
        return real_open(file, *args, **kwargs)

    def recording_storage_open(storage, name, mode="rb"):
        opened.append(os.path.realpath(storage.path(name)))
        return real_storage_open(storage, name, mode)

    def recording_find(path, *args, **kwargs):
        found = real_find(path, *args, **kwargs)
        for result in found if isinstance(found, list) else [found]:
            if result:
                opened.append(os.path.realpath(result))
        return found

    def recording_get(client, url):
        fetched.append(url)
        return real_get(client, url)

    def recording_read(path):
        fetched.append(path)
        reading.append(path)
        try:
            return real_read(path)
        finally:
            reading.pop()

    with monkeypatch.context() as patch:
        patch.setattr(builtins, "open", recording_open)
        patch.setattr(io, "open", recording_open)
        patch.setattr(Storage, "open", recording_storage_open)
        patch.setattr(finders, "find", recording_find)
        patch.setattr(rendering.AnonymousClient, "get", recording_get)
        patch.setattr(rendering, "_open_from_storage", recording_read)
        yield opened, fetched


def readable_roots():
    """The media root, the static root and the apps' static folders."""
    roots = [settings.MEDIA_ROOT, settings.STATIC_ROOT]
    for finder in finders.get_finders():
        roots += [storage.location for storage in finder.storages.values()]
    return [os.path.realpath(root) for root in roots]


tagged_references = st.one_of(
    # A NUL is U+FFFD in a page or stylesheet, which makes "\0//other.host" a relative URL.
    foreign_references().map(
        lambda pair: ("foreign", pair[0].replace("\x00", ""), pair[1])
    ),
    st.one_of(local_references(), climbing_references()).map(
        lambda reference: ("local", reference, None)
    ),
    st.sampled_from(NEEDS_NOTHING).map(lambda reference: ("nothing", reference, None)),
    odd_authority_references().map(lambda reference: ("any", reference, None)),
    st.text(alphabet=HOSTILE_CHARACTERS, max_size=30).map(
        lambda reference: ("any", reference, None)
    ),
)


def css_urls(references):
    forms = ["url(%s)", "@import %s;", "a { background: url( %s ) }"]
    return " ".join(
        forms[number % 3] % css_string(reference)
        for number, (_, reference, _) in enumerate(references)
    )


@pytest.fixture
def hostile_site(site, trails, monkeypatch, settings, tmp_path):
    """(site, page, write): the site, whose pages all answer ``page["page"]``, with a
    secret file beside its media and static roots; ``write(path, text)`` writes a file
    under them (``media/…``, ``static/…``)."""
    settings.STATIC_ROOT = str(tmp_path / "static")
    (tmp_path / SECRET).write_text("secret { color: red }")
    page = {"page": ""}
    monkeypatch.setattr(
        StandardPage,
        "serve",
        lambda self, request, *args, **kwargs: HttpResponse(page["page"]),
    )

    def write(relative, text):
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    return site, page, write


@hypothesis.settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    in_page=st.lists(tagged_references, max_size=6),
    in_srcset=st.lists(
        st.one_of(local_references(), climbing_references()), max_size=3
    ),
    in_stylesheets=st.lists(
        st.lists(tagged_references, max_size=3), min_size=4, max_size=4
    ),
    noise=soup,
)
def test_a_build_reads_only_under_its_roots_and_fetches_only_its_origin(
    hostile_site, monkeypatch, in_page, in_srcset, in_stylesheets, noise
):
    site, page, write = hostile_site
    a, b, c, s = (css_urls(references) for references in in_stylesheets)
    # @import cycles within the media, across media and static, and by other spellings.
    write(
        "media/css/a.css",
        f'@import "b.css"; @import "a.css"; {a} @import "/static/site/s.css";',
    )
    write("media/css/b.css", f'@import "c.css"; {b}')
    write(
        "media/css/c.css",
        f'@import url("/media/css/a.css"); {c} @import "./%2e%2e/css/b.css";',
    )
    write(
        "static/site/s.css", f'@import "/media/css/c.css"; {s} @import "s.css"; {noise}'
    )
    page["page"] = (
        '<link rel="stylesheet" href="/media/css/a.css">'
        '<link rel="stylesheet" href="/static/site/s.css">'
        + "".join(html_tag(reference) for _, reference, _ in in_page)
        + f'<img srcset="{html.escape(", ".join(in_srcset))}">'
        + f'<div style="{html.escape(css_urls(in_page))}"></div>'
        + noise
    )

    with recorded_reads(monkeypatch) as (opened, fetched):
        manifest = rebuild_site_manifest(site)

    roots = readable_roots()
    assert [path for path in opened if not is_under(path, roots)] == []
    entries = [entry["url"] for entry in manifest.entries]
    for url in entries + fetched:
        assert_is_a_canonical_path(url)
        assert served_path(url) is not None, url
        assert FOREIGN_MARKER not in url and NOTHING_MARKER not in url, url
    reported = {origin_of(problem["url"]) for problem in manifest.problems}
    for stylesheet in ("/media/css/a.css", "/media/css/b.css", "/media/css/c.css"):
        assert stylesheet in entries
    for kind, reference, origin in in_page + sum(in_stylesheets, []):
        if kind == "foreign":
            assert origin in reported, reference


def test_a_base_href_that_no_parser_accepts_leaves_the_build_whole(hostile_site):
    site, page, write = hostile_site
    write("media/a.png", "not really a png")
    page["page"] = '<base href="//["><img src="/media/a.png">'

    manifest = rebuild_site_manifest(site)

    assert "/media/a.png" in {entry["url"] for entry in manifest.entries}


def test_a_base_href_on_another_origin_by_backslashes_is_reported(
    hostile_site, monkeypatch
):
    site, page, _ = hostile_site
    page["page"] = f'<base href="\\\\other.host/"><img src="{FOREIGN_MARKER}.png">'

    with recorded_reads(monkeypatch) as (_, fetched):
        manifest = rebuild_site_manifest(site)

    assert [url for url in fetched if FOREIGN_MARKER in url] == []
    problems = {problem["url"] for problem in manifest.problems}
    assert f"http://other.host/{FOREIGN_MARKER}.png" in problems


# ---------- Time linear in the input ----------

# Characters: large enough that a quadratic cost with a small constant (copying the rest
# of the text at each tag) shows at 8 times the size; small enough that the 8 times larger
# input stays in the processor's caches, whose misses slow down even linear code.
INPUT_SIZE = 50_000
# A run shorter than this is too short to time on a loaded machine: it counts as this long.
MEASURABLE_SECONDS = 0.01


def repeated(unit, prefix="", suffix=""):
    """A maker of inputs: ``unit`` over and over to about ``size`` characters."""
    return lambda size: prefix + unit * (size // len(unit)) + suffix


def hostile_url_list(size):
    urls = [
        "../" * 3 + "x.css",
        "//other.host/x",
        "/a/%2e%2e/%2E%2e/b?c#d",
        "javascript:x",
        "\\\\a\\b",
        "http://[",
        "/media/a/b/c.png",
        "x.css?" + "a" * 20,
    ]
    return (urls * (size // 100 + 1))[: size // 12]


def page_urls(page):
    return same_origin_paths(urls_in_html(page).subresources, PAGE_URL, ORIGIN)


def canonical(reference):
    return canonical_path(reference, PAGE_URL, ORIGIN)


# (name, function, maker of an input of about ``size`` characters)
SHAPES = [
    ("huge srcset", urls_in_html, repeated("/a.jpg 1x, ", '<img srcset="', '">')),
    ("one tag, many attributes", urls_in_html, repeated(" a=b", "<img", ">")),
    ("unclosed attribute quotes", urls_in_html, repeated("<a href='")),
    ("unclosed comment", urls_in_html, repeated("<!-", "<!--")),
    ("deep nesting", urls_in_html, repeated("<div><span>")),
    ("NULs", urls_in_html, repeated("\x00", suffix="<img src=a>")),
    ("character references", urls_in_html, repeated("&ampx&#x", "<img alt='", "'>")),
    ("unfinished script end tags", urls_in_html, repeated("</scrip", "<script>")),
    ("long line", urls_in_html, repeated("x", "<p>", "<img src=a>")),
    ("bogus comments", urls_in_html, repeated("<!<?</")),
    ("many hostile URLs in a page", page_urls, repeated('<img src="/a/%2e%2e/b?c#d">')),
    ("deep nesting of blocks", urls_in_css, repeated("{([")),
    ("unclosed strings of escapes", urls_in_css, repeated("\\", '"')),
    ("escaped url names", urls_in_css, repeated("u\\72 l(")),
    ("unclosed comments", urls_in_css, repeated("/*")),
    ("NULs in CSS", urls_in_css, repeated("\x00")),
    ("bad urls with escapes", urls_in_css, repeated("url(a\\")),
    ("srcset parentheses", parse_srcset, repeated("a (")),
    ("srcset commas", parse_srcset, repeated(",")),
    (
        "hostile URL list",
        lambda urls: same_origin_paths(urls, PAGE_URL, ORIGIN),
        hostile_url_list,
    ),
    ("climbing reference", canonical, repeated("/..")),
    ("encoded climbing reference", canonical, repeated("/%2E%2e")),
    ("backslashes", canonical, repeated("\\")),
    ("long query", canonical, repeated("?a/../", "/x")),
    ("encoded climbing path", served_path, repeated("/%2e%2e%2F")),
]


def cpu_seconds(function, argument, runs=3):
    """The fastest of ``runs`` runs, in CPU time, with the garbage collector kept out:
    other processes on a loaded machine can only make a run slower."""
    gc.disable()
    try:
        fastest = float("inf")
        for _ in range(runs):
            start = time.process_time()
            function(argument)
            fastest = min(fastest, time.process_time() - start)
    finally:
        gc.enable()
    return fastest


@pytest.mark.parametrize(
    "function, make",
    [shape[1:] for shape in SHAPES],
    ids=[shape[0] for shape in SHAPES],
)
def test_discovery_takes_time_linear_in_its_input(function, make):
    small = max(cpu_seconds(function, make(INPUT_SIZE)), MEASURABLE_SECONDS)
    large = cpu_seconds(function, make(8 * INPUT_SIZE), runs=2)
    # Linear: about 8 times as long; quadratic: 64 times.
    assert large / small < 20, (small, large)


def test_a_folder_under_a_root_is_reported_missing_not_read(hostile_site):
    site, page, write = hostile_site
    write("media/css/a.css", "a { color: red }")
    page["page"] = '<link rel="stylesheet" href="/media/css/"><img src="/media/">'

    manifest = rebuild_site_manifest(site)

    messages = " ".join(problem["message"] for problem in manifest.problems)
    assert "The media file /media/css/ does not exist." in messages
    assert "IsADirectoryError" not in messages
