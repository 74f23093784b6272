"""The URLs in a page found by ``html_scan``'s linear tokenizer.

On ordinary pages it finds what a collector built on ``html.parser`` finds (below, the
one the plugin used before: quadratic on malformed markup); where ``html.parser``
differs from browsers, these tests hold what browsers do. Large hostile
inputs only check the answer here (their speed is measured by hand).
"""

from html.parser import HTMLParser

import hypothesis
import pytest
from hypothesis import given
from hypothesis import strategies as st

from wagtail_offline import html_scan
from wagtail_offline.assets import (
    LINK_RELS,
    LINK_TAGS,
    SRCSET_TAGS,
    URL_ATTRIBUTES_BY_TAG,
    HtmlUrls,
    parse_srcset,
    urls_in_css,
)
from wagtail_offline.html_scan import StartTag, collect_urls, start_tags


class HtmlParserCollector(HTMLParser):
    """The reference: the same URL rules on Python's html.parser."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.subresources, self.links, self.base = [], [], None
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attributes = {name: value for name, value in attrs if value is not None}
        found = self.subresources
        if tag == "base" and self.base is None and attributes.get("href"):
            self.base = attributes["href"]
        elif tag == "link":
            rels = set(attributes.get("rel", "").lower().split())
            if rels & LINK_RELS and attributes.get("href"):
                found.append(attributes["href"])
            if attributes.get("imagesrcset"):
                found += parse_srcset(attributes["imagesrcset"])
        elif tag in LINK_TAGS and attributes.get("href"):
            self.links.append(attributes["href"])
        elif tag == "style":
            self._in_style = True
        for attribute in URL_ATTRIBUTES_BY_TAG.get(tag, ()):
            if attributes.get(attribute):
                found.append(attributes[attribute])
        if tag in SRCSET_TAGS and attributes.get("srcset"):
            found += parse_srcset(attributes["srcset"])
        if attributes.get("style"):
            found += urls_in_css(attributes["style"])

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.subresources += urls_in_css(data)


def urls_in_html(html):
    collector = HtmlParserCollector()
    collector.feed(html)
    collector.close()
    return HtmlUrls(collector.subresources, collector.links, collector.base)


PAGES = {
    "head and body": """<!DOCTYPE html>
<html lang="en"><head>
  <meta charset="utf-8"><title>A <b>title</b> &amp; more</title>
  <link rel="stylesheet" href="/static/site.css">
  <link rel="icon" href="/favicon.svg"><link rel="canonical" href="/elsewhere/">
  <link rel="preload" as="image" href="/media/hero.jpg"
        imagesrcset="/media/hero-400.jpg 400w, /media/hero-800.jpg 800w" imagesizes="50vw">
  <link rel="modulepreload" href="/static/app.mjs">
  <script src="/static/site.js"></script><script type="module" src="/static/m.js"></script>
</head><body>
  <img src="/media/a.jpg" srcset="/media/a-200.jpg 200w, /media/a-400.jpg 400w" alt="A">
  <picture><source srcset="/media/b.webp 1x, /media/b@2x.webp 2x" type="image/webp">
  <img src="/media/b.jpg"></picture>
  <video poster="/media/poster.jpg" src="/media/v.mp4"><track src="/media/v.vtt"></video>
  <audio src="/media/a.mp3"></audio><embed src="/media/e.swf"><object data="/media/o.pdf"></object>
  <input type="image" src="/media/button.png">
  <a href="/not-a-subresource/">link</a> <map><area href="/area/" shape="rect"></map>
</body></html>""",
    "styles": """<html><head><style>
  body { background: url("/media/bg.png") }
  @import "/static/imported.css";
  /* url(/media/commented.png) */
</style><style media="print">.x { background: url(/media/print.png) }</style></head>
<body><div style="background: url('/media/div.png')">x</div>
<p style="color: red">no url</p><span style='background-image:url(&quot;/media/q.png&quot;)'></span>
</body></html>""",
    "comments and scripts": """<body>
<!-- <img src="/media/commented.jpg"> <a href="/commented/">x</a> -->
<script>
  var html = '<img src="/media/in-script.jpg">';
  document.write("<a href='/in-script/'>" + "</scr" + "ipt>");
</script>
<SCRIPT type="text/template"><a href="/in-template/"><img src="/x.jpg"></a></Script >
<img src="/media/after.jpg">
</body>""",
    "entities and case": """<HTML><BODY>
<IMG SRC="/media/a.jpg?w=1&amp;h=2" ALT="x"><Img Src='/media/b.jpg?a=1&#38;b=2'>
<A HREF="/page/?q=caf&eacute;&amp;x=1">x</A><a href="/p/&#x41;/">y</a>
<SCRIPT SRC=/static/upper.js></SCRIPT><LINK REL="Stylesheet" HREF="/static/upper.css">
</BODY></HTML>""",
    "unquoted and odd spacing": """<body>
<img src=/media/unquoted.jpg alt=x><img src = "/media/spaced.jpg" >
<img
  src="/media/newlines.jpg"
  srcset="/media/n-1.jpg 1x,
          /media/n-2.jpg 2x">
<a href=/unquoted/>u</a><img src="/media/self-closing.jpg"/>
<source srcset="/media/a,b.jpg 1x, /media/c.jpg 2x">
<img data-src="/media/lazy.jpg" src="">
</body>""",
    "base": """<html><head><base href="/base/"><base href="/second-base/">
<link rel="stylesheet" href="site.css"></head><body><a href="page/">p</a></body></html>""",
    "empty base first": """<head><base target="_blank"><base href="/real-base/"></head>""",
    "wagtail-like page": """<!doctype html>
<html class="no-js" lang="en">
<head>
<meta charset="utf-8" />
<title>Home &#8212; My Site</title>
<meta name="viewport" content="width=device-width, initial-scale=1" />
<link rel="stylesheet" type="text/css" href="/static/css/mysite.css?v=3">
<!--[if lt IE 9]><script src="/static/html5shiv.js"></script><![endif]-->
</head>
<body class="template-homepage">
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/blog/">Blog</a></li></ul></nav></header>
<main>
<div class="rich-text"><p>Text with <a href="/blog/post-1/">a link</a> &lt;img src="/nope.jpg"&gt;</p>
<img alt="Photo" class="richtext-image full-width" height="600"
 src="/media/images/photo.width-800.jpg" width="800"></div>
<figure><picture>
<source srcset="/media/images/photo.format-webp.webp" type="image/webp">
<img src="/media/images/photo.fill-600x400.jpg" alt="">
</picture></figure>
<svg width="10" height="10"><image href="/media/svg-image.png"/><use href="#icon"/></svg>
</main>
<script type="text/javascript" src="/static/js/mysite.js"></script>
<script>if (a < b && c > d) { document.body.innerHTML = "<img src='/x.png'>"; }</script>
</body>
</html>""",
}


@pytest.mark.parametrize("name", PAGES)
def test_realistic_pages_give_what_html_parser_gives(name):
    html = PAGES[name]
    assert collect_urls(html) == urls_in_html(html)


def test_realistic_pages_find_what_they_hold():
    found = collect_urls(PAGES["comments and scripts"])
    assert found == HtmlUrls(["/media/after.jpg"], [], None)
    found = collect_urls(PAGES["entities and case"])
    assert found.subresources == [
        "/media/a.jpg?w=1&h=2",
        "/media/b.jpg?a=1&b=2",
        "/static/upper.js",
        "/static/upper.css",
    ]
    assert found.links == ["/page/?q=café&x=1", "/p/A/"]
    assert collect_urls(PAGES["base"]).base == "/base/"
    assert collect_urls(PAGES["empty base first"]).base == "/real-base/"
    assert collect_urls(PAGES["styles"]).subresources == [
        "/media/bg.png",
        "/static/imported.css",
        "/media/print.png",
        "/media/div.png",
        "/media/q.png",
    ]


def test_start_tags():
    html = '<P CLASS=a><br/><Style TYPE="text/css">a { b: url(c) }</sTyLe  ><img alt>'
    assert list(start_tags(html)) == [
        StartTag("p", {"class": "a"}, None),
        StartTag("br", {}, None),
        StartTag("style", {"type": "text/css"}, "a { b: url(c) }"),
        StartTag("img", {"alt": ""}, None),
    ]


# Edge cases, answered as browsers do. Those marked "html.parser:" are where html.parser
# (Python 3.11) answers otherwise; the rest may vary between Python's patch releases.
BROWSER_CASES = [
    # Browsers read <textarea>, <title>, <xmp>, <iframe>, <noembed>, <noframes> (and
    # <plaintext>) as text, as <script> and <style> (html.parser: only those two).
    (
        """<textarea name="t"><img src="/media/in-textarea.jpg"></textarea>
<noembed><img src="/media/noembed.jpg"></noembed><xmp><img src="/media/xmp.jpg"></xmp>
<iframe src="/frame/"><img src="/media/in-iframe.jpg"></iframe>
<noframes><img src="/media/noframes.jpg"></NOFRAMES>
<img src="/media/after.jpg">""",
        ["/media/after.jpg"],
    ),
    # The first of duplicate attributes wins (html.parser: the last one with a value).
    ('<img src="/a.jpg" src="/b.jpg">', ["/a.jpg"]),
    ('<img src src="/b.jpg">', []),
    # A self-closing raw-text element still holds text up to its end tag (html.parser:
    # "/>" closes it).
    (
        '<script src="/a.js"/><img src="/b.jpg"></script><img src="/c.jpg">',
        ["/a.js", "/c.jpg"],
    ),
    # A named reference without ";" followed by "=" or a letter or digit stays as
    # written in an attribute (html.parser: "¬ify=1", "&b=2", "¶=2").
    ('<img src="/a.jpg?x=1&notify=1">', ["/a.jpg?x=1&notify=1"]),
    ('<img src="/a.jpg?a=1&ampb=2">', ["/a.jpg?a=1&ampb=2"]),
    ('<img src="/a.jpg?a=1&para=2">', ["/a.jpg?a=1&para=2"]),
    ('<img src="/a.jpg?a=1&amp b">', ["/a.jpg?a=1& b"]),  # Otherwise decoded.
    ('<img src="/a.jpg?&copy;&copy">', ["/a.jpg?©©"]),
    # A raw-text element's end tag must be followed by whitespace, "/" or ">".
    ("<style>a{}</stylex><img src=/a.jpg></style>", []),
    ("<script></script\t><img src=/a.jpg>", ["/a.jpg"]),
    ("<script></script/><img src=/a.jpg>", ["/a.jpg"]),
    # An end tag's attributes are read as a start tag's: a quoted ">" does not end it
    # (html.parser: it does, nor does it take "/" after the name as the end of it).
    ('<script></script x=">"><img src=/a.jpg>', ["/a.jpg"]),
    ('</p title="><img src=/a.jpg>"><img src=/b.jpg>', ["/b.jpg"]),
    # Comments end at "-->", "--!>", and "<!-->", "<!--->" are whole comments.
    ("<!--><img src=/a.jpg>", ["/a.jpg"]),
    ("<!---><img src=/a.jpg>", ["/a.jpg"]),
    ("<!-- x --!><img src=/a.jpg>", ["/a.jpg"]),
    ("<!-- x ---><img src=/a.jpg>", ["/a.jpg"]),
    ("<!-- x -- ><img src=/a.jpg>", []),  # html.parser: "-- >" ends it.
    # Bogus comments end at the first ">".
    ('<!DOCTYPE html PUBLIC "a>b"><img src=/a.jpg>', ["/a.jpg"]),
    ("<?xml version='1.0'?><img src=/a.jpg>", ["/a.jpg"]),
    ("<![CDATA[<img src=/a.jpg>]]><img src=/b.jpg>", ["/b.jpg"]),
    ("</ <img src=/a.jpg>x><img src=/b.jpg>", ["/b.jpg"]),
    ("</><img src=/a.jpg>", ["/a.jpg"]),
    # "<" not before a letter, "!", "/" or "?" is text.
    ("a < b <1 <img src=/a.jpg>", ["/a.jpg"]),
    # A tag unclosed at the end is dropped.
    ('<img src="/a.jpg"', []),
    ("<img src=/a.jpg", []),
    ('<img src="/a.jpg', []),
    ('<img src="/a.jpg" alt', []),
    ("<img src=/a.jpg /", []),
    ("<img src=/a.jpg><img src=/b.jpg", ["/a.jpg"]),
    # Quotes and "<" inside attribute names and unquoted values are kept.
    ("<img src=/a'b<c.jpg>", ["/a'b<c.jpg"]),
    ("<img =x src=/a.jpg>", ["/a.jpg"]),
    ('<img src="/a.jpg"alt="x"srcset="/b.jpg 2x">', ["/a.jpg", "/b.jpg"]),
    ("<img/src=/a.jpg>", ["/a.jpg"]),
    ("<img src=/a.jpg/>", ["/a.jpg/"]),
    ("<img src= >", []),
    # CR and CRLF are newlines, NUL is U+FFFD.
    ('<img\r\nsrc="/a.jpg"\rsrcset="/b.jpg">', ["/a.jpg", "/b.jpg"]),
    ('<img src="/a\0.jpg">', ["/a\ufffd.jpg"]),  # html.parser: NUL.
    # Only ASCII letters are folded: "ſ" (long s) does not close <style>.
    ("<style>a{}</ſtyle><img src=/a.jpg>", []),
    # An unclosed raw-text element runs to the end (html.parser: its text is lost);
    # <plaintext> has no end.
    ("<style>a { background: url(/a.png) }", ["/a.png"]),
    ("<plaintext></plaintext><img src=/a.jpg>", []),
    ("<title><img src=/a.jpg></title><img src=/b.jpg>", ["/b.jpg"]),
]


@pytest.mark.parametrize("html, subresources", BROWSER_CASES)
def test_browsers_behaviour(html, subresources):
    assert collect_urls(html).subresources == subresources


def test_first_href_wins():
    assert collect_urls('<a href="/a/" href="/b/">x</a>').links == ["/a/"]
    assert collect_urls('<base href="/a/" href="/b/">').base == "/a/"


SIZE = 200_000


def _times(shape):
    return shape * (SIZE // len(shape))


HOSTILE = [
    # Every tag is unclosed at the end: nothing.
    ('<a href="' * (SIZE // 9), HtmlUrls([], [], None)),
    (_times('<img src="'), HtmlUrls([], [], None)),
    ("<a " + "b=" * (SIZE // 2), HtmlUrls([], [], None)),
    ("<!--" + "x" * SIZE, HtmlUrls([], [], None)),
    ("<!--" + "<img src=/a.jpg>" * (SIZE // 16), HtmlUrls([], [], None)),
    (_times("<"), HtmlUrls([], [], None)),
    (_times("<!"), HtmlUrls([], [], None)),
    (_times("</"), HtmlUrls([], [], None)),
    (_times("<?"), HtmlUrls([], [], None)),
    (_times("<!-"), HtmlUrls([], [], None)),
    (_times("<a"), HtmlUrls([], [], None)),
    ("<script>" + "<" * SIZE, HtmlUrls([], [], None)),
    ("<script>" + "</scrip" * (SIZE // 7), HtmlUrls([], [], None)),
    ("<style>" + "url(" * (SIZE // 4), HtmlUrls([], [], None)),  # A bad url.
    ("<style>url(" + "a" * SIZE, HtmlUrls(["a" * SIZE], [], None)),
    ("<style>" + "</" * SIZE, HtmlUrls([], [], None)),
    ("<textarea>" + "<img src=/a.jpg>" * (SIZE // 16), HtmlUrls([], [], None)),
    ("<img src=x " * (SIZE // 11), HtmlUrls([], [], None)),
    (
        "&" * SIZE + "<img src=" + "&amp" * (SIZE // 4) + ">",
        HtmlUrls(["&" * (SIZE // 4)], [], None),
    ),
    (
        "<img src=" + "&amp;" * (SIZE // 5) + ">",
        HtmlUrls(["&" * (SIZE // 5)], [], None),
    ),
    (
        "<img src=" + "&notx" * (SIZE // 5) + ">",
        HtmlUrls(["&notx" * (SIZE // 5)], [], None),
    ),
    # Complete tags: every one counts.
    ("<img src=x>" * (SIZE // 11), HtmlUrls(["x"] * (SIZE // 11), [], None)),
    (
        "<a href=/a/ " + "x " * SIZE + ">",
        HtmlUrls([], ["/a/"], None),
    ),
    (
        '<img src="/a.jpg" ' + 'src="/b.jpg" ' * (SIZE // 13) + ">",
        HtmlUrls(["/a.jpg"], [], None),
    ),
    ("<!-->" * (SIZE // 5) + "<img src=/a.jpg>", HtmlUrls(["/a.jpg"], [], None)),
    ("</a>" * (SIZE // 4) + "<img src=/a.jpg>", HtmlUrls(["/a.jpg"], [], None)),
]


@pytest.mark.parametrize(
    "html, expected", HOSTILE, ids=[repr(html[:12]) for html, _ in HOSTILE]
)
def test_hostile_pages_are_read_right(html, expected):
    assert collect_urls(html) == expected


# Tags built from plain parts, which the one-match path reads, and near misses that must
# send a tag the long way (references, single quotes, no space, odd names and spaces).
SPACES = st.sampled_from([" ", "\t", "\n", "\f", "  ", "", "\v", " / "])
NAMES = st.sampled_from(
    ["src", "DATA-x", ":n", "_n", "a.b", "x=", "é", '"q', "<b", "=e"]
)
VALUES = st.sampled_from(
    [
        "",
        '="v"',
        '="/m/a.jpg"',
        '="&lt;"',
        '="a&b"',
        '=""',
        "='v'",
        "=v",
        ' = "v"',
        '="',
    ],
)
TAG_ENDS = st.sampled_from([">", "/>", " >", " / >", "", " ", "\v>"])


@st.composite
def tags(draw):
    name = draw(st.sampled_from(["img", "IMG", "x-y", "a:b", "p\ufffd"]))
    attributes = draw(st.lists(st.tuples(SPACES, NAMES, VALUES), max_size=5))
    text = name + "".join(space + attr + value for space, attr, value in attributes)
    return text + draw(TAG_ENDS)


@hypothesis.settings(max_examples=500, deadline=None)
@given(tags())
def test_plain_tags_read_in_one_match_as_the_states_read_them(tag):
    assert html_scan._tag(tag, 0) == html_scan._tag_by_states(tag, 0)
