"""The URLs found in CSS, tokenised as CSS Syntax Level 3 does: correct on any input.

Speed is measured by ``benchmarks/discovery.py``; here the large hostile inputs only check
that the answer is right.
"""

import pytest

from wagtail_offline.assets import urls_in_css, urls_in_html

CASES = [
    # Quotes, case and whitespace.
    ("url(a.png)", ["a.png"]),
    ('url("a.png")', ["a.png"]),
    ("url('a.png')", ["a.png"]),
    ("URL(a.png) Url('b.png') uRl(\"c.png\")", ["a.png", "b.png", "c.png"]),
    ("url(  a.png  )", ["a.png"]),
    ('url(\n\t"a.png"\n)', ["a.png"]),
    ("url( 'a b.png' )", ["a b.png"]),
    ("url(a.png\r\n)", ["a.png"]),
    # Escapes, decoded.
    (r"url(a\29 b.png)", ["a)b.png"]),
    (r"url(a\)b.png)", ["a)b.png"]),
    (r"url(\61.png)", ["a.png"]),
    (r"url(a\20 b.png)", ["a b.png"]),
    (r'url("a\"b.png")', ['a"b.png']),
    (r"url('it\'s.png')", ["it's.png"]),
    ("url('a\\\nb.png')", ["ab.png"]),  # An escaped newline continues a string.
    (r"u\72l(a.png)", ["a.png"]),  # An escape may spell the name too.
    (r"\75 rl(a.png)", ["a.png"]),
    # @import, all its forms.
    ('@import "a.css";', ["a.css"]),
    ("@import 'a.css' screen;", ["a.css"]),
    ("@import url(a.css);", ["a.css"]),
    ('@import url("a.css") layer(base);', ["a.css"]),
    ("@IMPORT 'a.css';", ["a.css"]),
    ('@import/* why not */"a.css";', ["a.css"]),
    ('@importer "a.css";', []),  # Another at-rule: its string is only a string.
    ('@media print { a { content: "b.css" } }', []),
    # Comments hide what they hold.
    ("/* url(a.png) */ url(b.png)", ["b.png"]),
    ('/* @import "a.css"; */', []),
    ("/**/url(a.png)/**/", ["a.png"]),
    ("/*/ url(a.png) */", []),
    # So do strings.
    ('a::before { content: "url(a.png)" } b { background: url(b.png) }', ["b.png"]),
    ("a { content: 'a \\' url(a.png)' }", []),
    # Empty urls load nothing.
    ("url()", []),
    ("url(   )", []),
    ('url("")', []),
    ("url(' ')", []),
    # data: urls are returned as they are (callers skip them).
    ("url(data:image/png;base64,AAA=)", ["data:image/png;base64,AAA="]),
    (
        "url(\"data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg'/>\")",
        ["data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg'/>"],
    ),
    # Only the name "url" opens a url.
    ("aurl(a.png) my-url(b.png) -url(c.png) 1url(d.png)", []),
    ("#url(a.png) @url(b.png)", []),
    ("<!--url(a.png)-->", ["a.png"]),
    # Bad urls load nothing; scanning resumes after their ")".
    ("url(a b)", []),
    ('url(a"b)', []),
    ("url(a'b)", []),
    ("url(a(b)", []),
    ("url(a\x01b)", []),
    ("url(a\\\nb)", []),  # A backslash before a newline escapes nothing.
    ('url(a b) url(c.png) url(d"e) url(f.png)', ["c.png", "f.png"]),
    (r"url(a b\) c) url(d.png)", ["d.png"]),  # An escaped ")" does not end it.
    ('url("a.png" b) url(c.png)', ["c.png"]),  # url( <string> ) only.
    # Unclosed things.
    ('a { background: url("unclosed\n} b { background: url(a.png) }', ["a.png"]),
    ("url(a.png) /* url(b.png) url(c.png)", ["a.png"]),
    ('a { content: "unclosed\n; background: url(a.png) }', ["a.png"]),
    ('@import "unclosed\n; @import "b.css";', ["b.css"]),
    # At the very end, an unclosed url or string is still whole (the parser closes it).
    ("url(a.png", ["a.png"]),
    ("url('a.png", ["a.png"]),
    ('@import "a.css', ["a.css"]),
    ("url(", []),
    ("url(a\\", ["a\ufffd"]),
    # An unclosed unquoted url( swallows everything up to the next ")", as browsers do:
    # the url(a.png) after it is only the rest of a bad url.
    ("a { background: url( } b { background: url(a.png) } c { color: red }", []),
    (
        "a { background: url( } b { background: url(a.png) } c { background: url(c.png) }",
        ["c.png"],
    ),
]


@pytest.mark.parametrize("css, expected", CASES)
def test_urls_in_css(css, expected):
    assert urls_in_css(css) == expected


def test_urls_come_in_the_order_written():
    css = """@import "reset.css"; @import url('print.css') print;
    /* url(commented.png) */
    @font-face { src: url(../fonts/a.woff2) format("woff2"); }
    body { background: url( "data:image/png;base64,AAA" ), url(b.png); }"""
    assert urls_in_css(css) == [
        "reset.css",
        "print.css",
        "../fonts/a.woff2",
        "data:image/png;base64,AAA",
        "b.png",
    ]


def test_an_unclosed_url_in_one_style_attribute_does_not_reach_the_next():
    html = """<div style="background: url("></div>
    <div style="background: url(a.png)"></div><style>b { background: url(</style>
    <style>c { background: url(c.png) }</style>"""
    assert urls_in_html(html).subresources == ["a.png", "c.png"]


SIZE = 200_000

HOSTILE = [
    ("a { background: url(" + " " * SIZE, []),
    ("url(" * (SIZE // 4) + "url(a.png) url(b.png)", ["b.png"]),
    ("url(a " * (SIZE // 6) + ") url(b.png)", ["b.png"]),
    ("/* " * (SIZE // 3) + "url(a.png)", []),
    ('@import "a\n' * (SIZE // 10) + '@import "b.css";', ["b.css"]),
    ('a { background: url("' + "a" * SIZE, ["a" * SIZE]),
    ("url(" + "\\29" * (SIZE // 3) + ")", [")" * (SIZE // 3)]),
    ("a\\62 " * (SIZE // 5) + "url(a.png) url(b.png)", ["b.png"]),  # "…aburl(" first
    ('"' + "\\\n" * (SIZE // 2) + '" url(b.png)', ["b.png"]),
]


@pytest.mark.parametrize("css, expected", HOSTILE, ids=[css[:12] for css, _ in HOSTILE])
def test_large_hostile_css_gets_the_right_answer(css, expected):
    assert urls_in_css(css) == expected


def test_large_hostile_style_attribute_gets_the_right_answer():
    html = '<div style="background: url(' + " " * SIZE + '"></div><img src="a.png">'
    assert urls_in_html(html).subresources == ["a.png"]
