"""URL discovery on hostile input: ``urls_in_css`` and ``urls_in_html`` against input size.

Both run on every offline page during a rebuild, inside the editor's publish request with
the default task backend. Linear code takes twice as long on twice the text; a quadratic
scan, four times. No database: the functions only read text. Times are the process's CPU
time (``time.process_time``), the fastest of a few samples: other processes on a busy machine
can only add to it.
"""

import time

from wagtail_offline import assets

from .report import Result

KB = 1000  # characters
SIZES_KB = [25, 50, 100, 200]
# A size whose first run takes longer than this is not repeated and larger ones are skipped
# (quadratic code would take 4 times as long on the next).
BUDGET_SECONDS = 2.0
RATIO_LIMIT = 2.8  # linear: 2x; quadratic: 4x
SAMPLE_SECONDS = 0.02  # a faster call is repeated within a sample, up to this long

NORMAL_CSS = """/* Site styles */
@import url("fonts.css");
.hero { background: #fff url(/static/img/hero.jpg) no-repeat center / cover; }
.card::before { content: "\\2014"; color: rgba(0, 0, 0, .5); }
@font-face { font-family: "Site"; src: url('../fonts/site.woff2') format("woff2"); }
.icon { background-image: url( "data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg'/>" ); }
@media (min-width: 40em) { .grid { display: grid; grid-template-columns: repeat(3, 1fr); } }
"""
NORMAL_HTML = """<article class="card"><h2><a href="/trails/ridge/">Ridge walk</a></h2>
<img src="/media/images/ridge.jpg" srcset="/media/images/ridge-400.jpg 400w, /media/images/ridge-800.jpg 800w" alt="">
<p style="background: url(/static/img/paper.png)">Four hours, <em>steep</em> at the end.</p></article>
"""


def _repeat(unit, size, prefix="", suffix=""):
    """``prefix``, then ``unit`` over and over, then ``suffix``: ``size`` characters in all."""
    body = size - len(prefix) - len(suffix)
    return prefix + (unit * (body // len(unit) + 1))[:body] + suffix


def _fill(prefix, size, filler=" ", suffix=""):
    return _repeat(filler, size, prefix, suffix)


# (name, function, shape of ``size`` characters); function is "css" or "html".
SHAPES = [
    ("unclosed url( + spaces", "css", lambda n: _fill("a { background: url(", n)),
    ("many url( without )", "css", lambda n: _repeat("url(", n)),
    ("many /* unclosed", "css", lambda n: _repeat("/* ", n)),
    ('many @import " unclosed', "css", lambda n: _repeat('@import "a\n', n)),
    ("url( + long quoted string unclosed", "css", lambda n: _fill('url("', n, "a")),
    ("escapes in a url", "css", lambda n: _repeat("\\29", n, "url(", ")")),
    ("normal stylesheet", "css", lambda n: _repeat(NORMAL_CSS, n)),
    ('many unclosed <a href="', "html", lambda n: _repeat('<a href="', n)),
    ("unclosed <!--", "html", lambda n: _repeat("<p>x</p>", n, "<!--")),
    ("many unclosed <!--", "html", lambda n: _repeat("<!--", n)),
    ("many <a without >", "html", lambda n: _repeat("<a ", n)),
    (
        "<style> with unclosed url(",
        "html",
        lambda n: _fill("<style>a { background: url(", n, suffix="</style>"),
    ),
    (
        "style attribute with unclosed url(",
        "html",
        lambda n: _fill('<div style="background: url(', n, suffix='">x</div>'),
    ),
    (
        "many style attributes with url(",
        "html",
        lambda n: _repeat('<i style="background: url( a">x</i>', n),
    ),
    ("normal page", "html", lambda n: _repeat(NORMAL_HTML, n)),
]


def run(sizes, functions=None, budget=BUDGET_SECONDS):
    """Time every shape at every size; print the table; one result row per shape.

    ``functions`` maps "css" and "html" to the functions to time (by default the plugin's
    ``urls_in_css`` and ``urls_in_html``): another version can be timed the same way.
    """
    functions = functions or {"css": assets.urls_in_css, "html": assets.urls_in_html}
    repeat = sizes["discovery_repeat"]
    rows = []
    for name, kind, shape in SHAPES:
        texts = [shape(size * KB) for size in SIZES_KB]
        seconds = _fastest(functions[kind], texts, repeat, budget)
        rows.append((f"urls_in_{kind}: {name}", seconds))
    _print_times(rows, repeat)
    return [_result(name, seconds, budget) for name, seconds in rows]


def _fastest(function, texts, repeat, budget):
    """Fastest seconds of ``function`` on each text, sizes taken in turns; None: skipped.

    A first run per size, smallest first, stops at the first that exceeds the budget.
    """
    firsts = []
    for text in texts:
        firsts.append(_cpu_seconds(function, text, 1))
        if firsts[-1] > budget:
            break
    measured = len(firsts) if firsts[-1] <= budget else len(firsts) - 1
    loops = [max(1, int(SAMPLE_SECONDS / max(first, 1e-6))) for first in firsts]
    samples = [[first] for first in firsts]
    for _ in range(repeat - 1):
        for index in range(measured):
            samples[index].append(_cpu_seconds(function, texts[index], loops[index]))
    fastest = [min(times) for times in samples]
    return fastest + [None] * (len(texts) - len(fastest))


def _cpu_seconds(function, text, loops):
    started = time.process_time()
    for _ in range(loops):
        function(text)
    return (time.process_time() - started) / loops


def _ratio(seconds):
    """(time of the largest size measured / time of the one before, "200/100 KB");
    (None, …) if only the smallest size was measured."""
    measured = [
        size for size, s in zip(SIZES_KB, seconds, strict=True) if s is not None
    ]
    if len(measured) < 2:
        return None, f"{measured[0]} KB only"
    larger, smaller = measured[-1], measured[-2]
    ratio = seconds[SIZES_KB.index(larger)] / seconds[SIZES_KB.index(smaller)]
    return ratio, f"{larger}/{smaller} KB"


def _ratio_text(ratio, sizes):
    if ratio is None:
        return sizes
    return f"{ratio:.2f}x" + ("" if sizes == "200/100 KB" else f" at {sizes}")


def _print_times(rows, repeat):
    header = ["shape"] + [f"{size} KB" for size in SIZES_KB] + ["time 200/100 KB"]
    table = [header]
    for name, seconds in rows:
        table.append(
            [name]
            + ["skipped" if s is None else f"{s * 1000:.2f} ms" for s in seconds]
            + [_ratio_text(*_ratio(seconds))]
        )
    widths = [max(len(row[column]) for row in table) for column in range(len(header))]
    print(
        f"\nURL discovery: CPU time per call, fastest of {repeat} samples per size "
        "(linear: 200/100 KB ≈ 2x, quadratic: 4x)"
    )
    for index, row in enumerate(table):
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(widths[i + 1]) for i, cell in enumerate(row[1:])]
        print("  " + " | ".join(cells))
        if index == 0:
            print("  " + "-+-".join("-" * width for width in widths))
    print(flush=True)


def _result(name, seconds, budget):
    ratio, sizes = _ratio(seconds)
    times = ", ".join(
        f"{size} KB " + ("skipped" if s is None else f"{s * 1000:.2f} ms")
        for size, s in zip(SIZES_KB, seconds, strict=True)
    )
    return Result(
        name=f"discovery: {name}",
        value=_ratio_text(ratio, sizes),
        goal=f"200/100 KB <= {RATIO_LIMIT}x",
        passed=sizes == "200/100 KB" and ratio <= RATIO_LIMIT,
        notes=[f"{times} (larger sizes are skipped after one run over {budget:g} s)"],
    )
