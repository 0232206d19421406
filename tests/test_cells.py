"""microgpt.cells: a page's cells run as Jupyter runs them, and the build's verdict on which need NumPy is right."""

import html
import json
import os
import re
import subprocess
import sys

import pytest
from IPython.lib.pretty import pretty

from conftest import WITHOUT_NUMPY, python_without_numpy
from microgpt import cells


@pytest.fixture(autouse=True)
def fresh_namespace():
    cells.reset()
    yield
    cells.reset()


def test_streams_in_order_and_the_last_value_as_jupyter_shows_it():
    out = cells.run("import sys\nprint('a')\nprint('b', file=sys.stderr)\nprint('c')\n6 * 7", 1)
    assert out == {"streams": [{"name": "stdout", "text": "a\n"}, {"name": "stderr", "text": "b\n"},
                               {"name": "stdout", "text": "c\n"}],
                   "dropped": 0, "note": "", "result": "42", "error": None}
    assert cells.run("6 * 7;", 2)["result"] is None  # a trailing semicolon hides it
    assert cells.run("print('x')", 3)["result"] is None  # None is not shown
    assert cells.run("x = 1", 4) == {"streams": [], "dropped": 0, "note": "", "result": None, "error": None}


def test_cells_share_one_namespace_until_reset():
    cells.run("x = 20", 1)
    assert cells.run("x + 1", 2)["result"] == "21"
    cells.reset()
    assert cells.run("x", 3)["error"]["name"] == "NameError"


@pytest.mark.parametrize("value", [
    42, 0.1 + 0.2, "emma", None, [26, 4, 12, 12, 0, 26], list(range(40)), {"wte": (27, 16), "wpe": (16, 16)},
    {f"layer{i}.attn_wq": [i] * 8 for i in range(6)}, tuple(range(30)), set(range(50)), frozenset({3, 1}),
    [[0.08] * 12, ["BOS"] * 20], "x" * 200, range(5), b"bytes", int, cells.Streams, print, cells.run, len,
])
def test_display_matches_ipython(value):
    assert cells.display_text(value) == (None if value is None else pretty(value, max_width=cells.DISPLAY_WIDTH))


def test_traceback_shows_the_readers_code_only():
    code = "from microgpt.optimizer import learning_rate_at\n\ndef f():\n    return learning_rate_at(5, 5, 0.01)\nf()"
    error = cells.run(code, 7)["error"]
    assert error["name"] == "HorizonError"
    text = error["traceback"]
    assert text.startswith("Traceback (most recent call last):\n")
    assert 'File "<cell 7>", line 5, in <module>' in text and 'File "<cell 7>", line 4, in f' in text
    assert "optimizer.py" not in text and "cells.py" not in text
    assert text.rstrip().endswith(f"HorizonError: {error['message']}")


def test_syntax_errors_point_at_the_line():
    error = cells.run("x = 1\ny = (", 3)["error"]
    assert error["name"] == "SyntaxError" and '<cell 3>", line 2' in error["traceback"]


def test_output_before_an_error_is_kept():
    out = cells.run("print('before')\n1 / 0", 1)
    assert out["streams"] == [{"name": "stdout", "text": "before\n"}] and out["error"]["name"] == "ZeroDivisionError"


def test_output_streams_while_the_cell_runs_and_keeps_its_last_lines():
    sent = []
    code = ("import sys\nprint('first')\nfor i in range(3): print(f'{i}%', end='\\r')\nprint('no newline', end='')\n"
            "print('err', file=sys.stderr)\nfor i in range(5000): print(i)")
    out = cells.run(code, 1, emit=lambda name, text: sent.append((name, text)))
    assert sent[:4] == [("stdout", "first"), ("stdout", "\n"), ("stdout", "0%"), ("stdout", "\r")]  # as written
    assert ("stdout", "no newline") in sent and sent.index(("stderr", "err")) > sent.index(("stdout", "no newline"))
    assert "".join(t for _, t in sent).endswith("\n4999\n")
    assert out["dropped"] == 5002 - cells.MAX_OUTPUT_LINES  # first, err and 5,000 numbers: the last 1,000 kept
    assert out["note"] == "… 4,002 earlier lines not shown: a cell keeps its last 1,000."
    assert out["streams"] == [{"name": "stdout", "text": "".join(f"{i}\n" for i in range(4000, 5000))}]


def test_glue_without_myst_nb():
    code = "from myst_nb import glue\n\nx = 6 * 7\nglue('x', x,\n     display=False)\nglue('shown', x)\nprint(x)"
    assert cells.without_glue(code) == "x = 6 * 7\nprint(x)"
    looped = ("for i in range(2):\n    glue(f'x{i}', i, display=False)\n"
              "for i in range(2):\n    print(i)\n    glue('y', i)")
    assert cells.without_glue(looped) == "for i in range(2):\n    print(i)\n    glue('y', i)"
    script = ("import sys; sys.modules['myst_nb'] = None\nfrom microgpt import cells\n"
              f"print(cells.run({code!r}, 1)['streams'])")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.stdout == "[{'name': 'stdout', 'text': '42\\n42\\n'}]\n", result.stderr


def test_needs_numpy():
    assert cells.needs_numpy(["import numpy as np", "import math", "from microgpt import numpy_engine"]) == [
        True, False, True]
    assert cells.needs_numpy(["from microgpt.run import Run\nrun = Run.setup(engine='numpy')",
                              "print(run.docs[0])",  # uses what a NumPy cell defined
                              "from microgpt.run import Run\nrun = Run.setup(engine='scalar')",  # again, without NumPy
                              "print(run.docs[0])"]) == [True, True, False, False]
    # names local to a function do not leak into the page's namespace
    assert cells.needs_numpy(["import numpy\ndef f():\n    x = 1\n    return x", "x = 2\nprint(x)"]) == [True, False]
    assert cells.needs_numpy(["x = (", "print(1)"]) == [False, False]  # a syntax error is the reader's to see


def test_modules_needing_numpy_are_the_ones_that_fail_without_it():
    from pathlib import Path

    package = Path(cells.__file__).parent
    modules = sorted(f"microgpt.{p.stem}" for p in package.glob("*.py") if p.stem != "__main__")
    code = ("import importlib, json\nfailed = []\nfor m in " + repr(modules) + ":\n    try:\n"
            "        importlib.import_module(m)\n    except ImportError:\n        failed.append(m)\n"
            "print(json.dumps(failed))")
    result = python_without_numpy(code)
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout)) == cells.modules_needing_numpy()


BAR = re.compile(r'<div class="mg-cell-bar[^"]*" data-numpy="(true|false)"(?: data-source="([^"]*)")?')


def runnable_cells(site):
    """Per page: each runnable cell's number, its code as the browser gets it, and the outputs its page shows."""
    for path in sorted(site.rglob("*.ipynb")):
        bars = BAR.findall(path.with_suffix(".html").read_text(encoding="utf-8"))
        code = [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
                if c["cell_type"] == "code" and "microgpt" not in c["metadata"]]  # not the exercises' cells
        assert len(bars) == len(code), path
        yield path, [(i + 1, html.unescape(source), cell["outputs"])
                     for i, ((numpy, source), cell) in enumerate(zip(bars, code)) if numpy == "false"]


def test_every_runnable_cell_reproduces_its_build_output_without_numpy(site, names_path):
    """What the browser runs, in CPython with NumPy blocked: every cell the build marks runnable, page by page."""
    runnable = 0
    for path, page in runnable_cells(site):
        script = WITHOUT_NUMPY + "sys.modules['myst_nb'] = None  # nor MyST-NB\n" + (
            "import json, sys, time\nfrom microgpt import cells\nresults = []\n"
            f"for number, source in {[(n, s) for n, s, _ in page]!r}:\n"
            "    t = time.perf_counter(); out = cells.run(source, number)\n"
            "    results.append({**out, 'seconds': time.perf_counter() - t})\n"
            "sys.stdout = sys.__stdout__\nprint(json.dumps(results))")
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                env={**os.environ, "MICROGPT_DATA": str(names_path)})
        assert result.returncode == 0, result.stderr
        for (number, _, outputs), out in zip(page, json.loads(result.stdout)):
            assert out["error"] is None, (path.name, number, out["error"])
            assert as_text(out) == build_text(outputs), (path.name, number)
            print(f"{path.relative_to(site)} cell {number}: {out['seconds']:.3f} s in CPython")
        runnable += len(page)
    assert runnable >= 10  # the pages' own cells, not a handful


def as_text(out: dict) -> str:
    return "".join(s["text"] for s in out["streams"]) + (out["result"] or "")


def build_text(outputs: list) -> str:
    text = []
    for o in outputs:
        if o["output_type"] == "stream":
            text.append("".join(o["text"]))
        elif o["output_type"] == "execute_result":
            text.append("".join(o["data"]["text/plain"]))
    return "".join(text)
