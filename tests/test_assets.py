"""Finding the URLs a page and its stylesheets load."""

from wagtail_offline.assets import (
    parse_srcset,
    same_origin_paths,
    static_fingerprint,
    urls_in_css,
    urls_in_html,
)

ORIGIN = "http://localhost"


def test_html_subresources_are_found():
    html = """
    <html><head>
      <link rel="stylesheet" href="/static/site.css">
      <link rel="icon" href="/favicon.svg"><link rel="canonical" href="/elsewhere/">
      <link rel="modulepreload" href="/static/app.mjs">
      <script src="/static/site.js"></script><script type="module" src="/static/m.js"></script>
    </head><body>
      <img src="/media/a.jpg" srcset="/media/a-200.jpg 200w, /media/a-400.jpg 400w">
      <picture><source srcset="/media/b.webp 1x, /media/b@2x.webp 2x"><img src="/media/b.jpg"></picture>
      <video poster="/media/poster.jpg"></video>
      <div style="background: url('/media/bg.png')"></div>
      <a href="/not-a-subresource/">link</a>
    </body></html>"""
    found = urls_in_html(html)
    assert found.base is None
    assert found.links == ["/not-a-subresource/"]
    assert set(found.subresources) == {
        "/static/site.css",
        "/favicon.svg",
        "/static/app.mjs",
        "/static/site.js",
        "/static/m.js",
        "/media/a.jpg",
        "/media/a-200.jpg",
        "/media/a-400.jpg",
        "/media/b.webp",
        "/media/b@2x.webp",
        "/media/b.jpg",
        "/media/poster.jpg",
        "/media/bg.png",
    }


def test_srcset_candidates_keep_commas_inside_urls():
    assert parse_srcset("/a.jpg 1x,/b,c.jpg 2x") == ["/a.jpg", "/b,c.jpg"]
    assert parse_srcset("  /a.jpg  ") == ["/a.jpg"]


def test_css_imports_and_urls_are_found_and_comments_ignored():
    css = """@import "reset.css"; @import url('print.css') print;
    /* url(commented.png) */
    @font-face { src: url(../fonts/a.woff2) format("woff2"); }
    body { background: url( "data:image/png;base64,AAA" ); }"""
    assert urls_in_css(css) == [
        "reset.css",
        "print.css",
        "../fonts/a.woff2",
        "data:image/png;base64,AAA",
    ]


def test_only_same_origin_paths_become_entries():
    local, foreign = same_origin_paths(
        [
            "css/a.css",
            "/b.css?v=2#frag",
            "#top",
            "data:image/png;base64,AA",
            "javascript:void(0)",
            "https://cdn.example/x.js",
            "//cdn.example/y.css",
            "http://localhost/c.css",
        ],
        "http://localhost/trails/",
        ORIGIN,
    )
    assert local == ["/trails/css/a.css", "/b.css?v=2", "/c.css"]
    assert foreign == ["https://cdn.example/x.js", "http://cdn.example/y.css"]


def test_every_kind_of_subresource_is_found_and_resolved_against_the_base():
    html = """
    <html><head><base href="/guide/">
      <link rel="stylesheet" href="css/a.css"><link rel="icon" href="icon.png">
      <link rel="apple-touch-icon" href="touch.png"><link rel="manifest" href="app.webmanifest">
      <link rel="preload" as="font" href="f.woff2"><link rel="modulepreload" href="m.mjs">
      <link rel="preload" as="image" imagesrcset="hero-1.jpg 1x, hero-2.jpg 2x">
      <link rel="alternate" href="feed.xml"><link rel="prefetch" href="next.html">
      <style>@import "inline.css"; .x { background: url(x.png) }</style>
      <script src="classic.js"></script><script type="module" src="module.js"></script>
      <script>var notAUrl = "nope.js";</script>
    </head><body>
      <img src="i.jpg" srcset="i-1.jpg 1x, i-2.jpg 2x">
      <picture><source srcset="p.avif 1x, p@2x.avif 2x" type="image/avif"><img src="p.jpg"></picture>
      <video src="v.mp4" poster="poster.jpg"><source src="v.webm"><track src="t.vtt"></video>
      <audio src="a.ogg"></audio>
      <div style="background-image: url(&quot;s.png&quot;)"></div>
      <a href="/documents/1/map.pdf">Map</a><area href="/elsewhere/">
    </body></html>"""
    found = urls_in_html(html)
    local, foreign = same_origin_paths(
        found.subresources, ORIGIN + (found.base or "/"), ORIGIN
    )
    expected = (
        "css/a.css icon.png touch.png app.webmanifest f.woff2 m.mjs hero-1.jpg "
        "hero-2.jpg inline.css x.png classic.js module.js i.jpg i-1.jpg i-2.jpg p.avif "
        "p@2x.avif p.jpg v.mp4 poster.jpg v.webm t.vtt a.ogg s.png"
    ).split()
    assert sorted(local) == sorted(f"/guide/{name}" for name in expected)
    assert foreign == []
    assert found.links == ["/documents/1/map.pdf", "/elsewhere/"]


def test_cross_origin_and_inert_urls_are_never_entries():
    html = """<link rel="stylesheet" href="https://cdn.example/lib.css">
    <script src="//cdn.example/lib.js"></script><img src="data:image/gif;base64,R0lGOD">
    <img srcset="blob:http://localhost/1 1x, about:blank 2x"><a href="javascript:void(0)">x</a>
    <img src="#fragment">"""
    found = urls_in_html(html)
    local, foreign = same_origin_paths(found.subresources, ORIGIN + "/", ORIGIN)
    assert local == []
    assert foreign == ["https://cdn.example/lib.css", "http://cdn.example/lib.js"]


def test_the_static_fingerprint_follows_the_static_files_of_the_entries(
    settings, tmp_path
):
    settings.STATIC_ROOT = str(tmp_path)
    (tmp_path / "site.css").write_text("h1 { color: green }")
    entries = [{"url": "/static/site.css"}, {"url": "/trails/"}]
    before = static_fingerprint(entries)
    assert before == static_fingerprint(entries)
    (tmp_path / "site.css").write_text("h1 { color: darkgreen }")
    assert static_fingerprint(entries) != before


def test_with_hashed_static_files_the_fingerprint_is_that_of_their_manifest(
    settings, tmp_path
):
    settings.STATIC_ROOT = str(tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
        },
    }
    staticfiles = tmp_path / "staticfiles.json"
    staticfiles.write_text('{"paths": {"site.css": "site.1.css"}, "version": "1.1"}')
    before = static_fingerprint([])
    staticfiles.write_text('{"paths": {"site.css": "site.2.css"}, "version": "1.1"}')
    assert static_fingerprint([]) != before
