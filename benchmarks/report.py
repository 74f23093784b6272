"""Timing helpers and the results table."""

import statistics
import time
from dataclasses import dataclass, field


@dataclass
class Result:
    name: str
    value: str
    goal: str
    passed: bool | None  # None: not measured
    notes: list = field(default_factory=list)


def ratio_result(name, measured, baseline, limit, unit_note):
    """A row for ``measured / baseline`` against ``<= limit``."""
    ratio = measured / baseline
    return Result(
        name=name,
        value=f"{ratio:.2f}x",
        goal=f"<= {limit}x",
        passed=ratio <= limit,
        notes=[unit_note],
    )


def timed(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def interleaved_medians(functions, repeat, warmup=1):
    """Median seconds of each function, run in turns so that drift hits all alike."""
    for _ in range(warmup):
        for function in functions:
            function()
    samples = [[] for _ in functions]
    for _ in range(repeat):
        for index, function in enumerate(functions):
            samples[index].append(timed(function))
    return [statistics.median(times) for times in samples]


def milliseconds(seconds):
    return f"{seconds * 1000:.2f} ms"


def print_table(results, title):
    verdict = {True: "PASS", False: "FAIL", None: "n/a"}
    rows = [("benchmark", "measured", "goal", "result")]
    rows += [(r.name, r.value, r.goal, verdict[r.passed]) for r in results]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    line = "+".join("-" * (width + 2) for width in widths)
    print(f"\n{title}\n+{line}+")
    for index, row in enumerate(rows):
        cells = " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row))
        print(f"| {cells} |")
        if index == 0:
            print(f"+{line}+")
    print(f"+{line}+")
    print("\nNotes:")
    for result in results:
        for note in result.notes:
            print(f"- {result.name}: {note}")
