"""Finding the URLs a page and its stylesheets load."""

from wagtail_offline.assets import (
    parse_srcset,
    same_origin_paths,
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
