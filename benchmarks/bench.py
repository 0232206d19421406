"""Time a training step of the original and of each engine side by side in one run, and print the ratios.

Every program prints one transcript line per step; run unbuffered, the time between the first and the last
step line, over the steps in between, is the mean cost of a step, with start-up, data loading, initialisation
and sampling left out. The original's cyclic garbage collector makes its step cost bursty (a 50-step window
once measured 202 ms/step and a 100-step one 315), so its window is long. Outputs are compared too: a
speed-up that changes a byte does not count.

The port also runs under Pyodide in Node (the browser's runtime, from node_modules, with a wheel built from this
source), timed the same way beside CPython, for each engine the browser can run (scalar, floats). With `--site DIR`
(a built site) it also opens live.html in headless Chromium and presses Run with each of them: the time to the first
step line (an empty cache) and to the end of the Run, the longest main-thread task while training (a `longtask`
PerformanceObserver), and the transcript the page shows against the original's; then, side by side in each browser
engine (Chromium, Firefox, WebKit: Debian's browsers, driven as tests/engines drives them, on an Xvfb display), the
time from Run to the first step line and the training speed in steps per second, timed in the page; and the time
to the first step line again with Python started in the worker instead of restored from the site's memory snapshot.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy

from microgpt.reference import edited_source

ROOT = Path(__file__).resolve().parent.parent
OPEN_SETTINGS = "document.querySelector('.mg-live-more').open = true"  # the settings sit behind the presets


def step_times(cmd: list[str], cwd: Path) -> tuple[list[float], str]:
    """Seconds between consecutive 'step' lines of an unbuffered run, and its whole stdout."""
    stamps, lines = [], []
    with subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, text=True, bufsize=1,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"}) as proc:
        for line in proc.stdout:
            if line.startswith("step "):
                stamps.append(time.perf_counter())
            lines.append(line)
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed with exit status {proc.returncode}")
    return [b - a for a, b in zip(stamps, stamps[1:])], "".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="names.txt")
    p.add_argument("--steps", type=int, default=300, help="steps timed for the original and the scalar port")
    p.add_argument("--numpy-steps", type=int, default=1000, help="steps timed for the NumPy engine")
    p.add_argument("--float-steps", type=int, default=1000, help="steps timed for the float engine")
    p.add_argument("--pyodide-steps", type=int, default=100,
                   help="steps timed for each engine the browser runs (scalar, floats) under Pyodide in Node and, "
                        "beside it, in CPython (0: skip)")
    p.add_argument("--site", metavar="DIR", help="a built site: also time live.html in headless Chromium")
    p.add_argument("--live-steps", type=int, default=1000, help="steps of the Run timed on live.html, per engine")
    p.add_argument("--live-engines", nargs="+", choices=BROWSER_ENGINES, default=list(BROWSER_ENGINES),
                   help="the engines whose Run is timed on live.html")
    p.add_argument("--only", nargs="+", choices=LEGS, default=list(LEGS),
                   help="time only these legs (default: all): cpython (the original and each engine), pyodide (in "
                        "Node), live (live.html's Run in Chromium, with --site), browsers (Chromium, Firefox, WebKit)")
    p.add_argument("--save", metavar="JSON", help="also write the figures here (the docs show benchmarks/results.json)")
    args = p.parse_args(argv)
    if args.save and (set(args.only) != set(LEGS) or set(args.live_engines) != set(BROWSER_ENGINES)):
        p.error("--save writes every leg's figures: leave out --only and --live-engines")
    data = Path(args.data).resolve()
    original = (ROOT / "reference" / "microgpt.py").read_text(encoding="utf-8")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "input.txt").write_bytes(data.read_bytes())

        def reference(steps):
            script = tmp / f"microgpt_{steps}.py"
            script.write_text(edited_source(original, num_steps=steps, num_samples=0), encoding="utf-8")
            return step_times([sys.executable, script.name], tmp)

        def port(engine, steps):
            return step_times([sys.executable, "-m", "microgpt", "run", "--data", str(data), "--engine", engine,
                               "--steps", str(steps), "--samples", "0"], tmp)

        def want(steps):
            """The original's output for this many steps: the run timed above, the transcript, or a new run."""
            return runs[0][3] if steps == args.steps else reference_transcript(steps) or reference(steps)[1]

        runs, runtimes = [], []
        if "cpython" in args.only:
            runs = [("reference/microgpt.py", args.steps, *reference(args.steps), None)]
            runs.append(("microgpt (scalar port)", args.steps, *port("scalar", args.steps), runs[0][3]))
            runs.append(("microgpt --engine numpy", args.numpy_steps, *port("numpy", args.numpy_steps),
                         want(args.numpy_steps)))
            runs.append(("microgpt --engine floats", args.float_steps, *port("floats", args.float_steps),
                         want(args.float_steps)))
        if args.pyodide_steps and "pyodide" in args.only:  # the browser's runtime beside CPython, back to back
            wheel = pyodide_wheel(tmp)
            for engine in BROWSER_ENGINES:
                runtimes.append((engine, port(engine, args.pyodide_steps),
                                 under_pyodide(data, args.pyodide_steps, tmp, wheel, engine)))

    rows = runs and engine_table(runs)
    pyodide_rows = runtimes and runtime_table(runtimes, args.pyodide_steps)
    site = Path(args.site) if args.site else None
    browser = site and "live" in args.only and live_page_timings(site, data, args.live_steps, args.live_engines)
    engines = site and "browsers" in args.only and engine_timings(site)
    if args.save:
        results = {
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} "
                       f"{platform.python_version()}, NumPy {numpy.__version__}",
            "date": time.strftime("%Y-%m-%d"),
            "command": f"nox -s bench -- --steps {args.steps} --numpy-steps {args.numpy_steps} "
                       f"--float-steps {args.float_steps} --pyodide-steps {args.pyodide_steps}",
            "engines": rows}
        results.update({k: v for k, v in (("runtimes", pyodide_rows), ("browser", browser),
                                          ("browser_engines", engines)) if v})
        Path(args.save).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    if not all(r["identical_output"] for r in (rows or []) + (pyodide_rows or []) + (browser or [])):
        sys.exit("an engine's output differs from the reference's")


BROWSER_ENGINES = ("scalar", "floats")  # the engines that need no NumPy, so the live page can run them
LEGS = ("cpython", "pyodide", "live", "browsers")  # what --only chooses from


def engine_table(runs) -> list[dict]:
    """Per program: mean and median us/step, the speed-up over the original, and its output against the original's."""
    ref_mean = statistics.fmean(runs[0][2])
    rows = []
    print(f"{'engine':<26} {'steps':>6} {'mean us/step':>13} {'median':>11} {'speed-up (mean)':>16}  output")
    for name, steps, times, out, expected in runs:
        mean, median = statistics.fmean(times), statistics.median(times)
        same = expected is None or out == expected
        rows.append({"name": name, "steps": steps, "us_per_step": round(mean * 1e6, 1),
                     "median_us_per_step": round(median * 1e6, 1), "speedup": round(ref_mean / mean, 1),
                     "identical_output": same})
        print(f"{name:<26} {steps:>6} {mean * 1e6:>13.1f} {median * 1e6:>11.1f} {ref_mean / mean:>15.1f}x  "
              f"{'identical' if same else 'DIFFERENT'}")
    return rows


def runtime_table(runtimes, steps: int) -> list[dict]:
    """Per engine: CPython and Pyodide us/step, their ratio, and the speed-up over the scalar engine in each runtime;
    every output compared with the scalar engine's in CPython."""
    expected = runtimes[0][1][1]  # the scalar engine, CPython
    base = {}
    rows = []
    print(f"\n{steps} steps of each engine the browser runs, CPython and Pyodide in Node back to back:")
    print(f"{'engine':<8} {'CPython us/step':>16} {'Pyodide us/step':>16} {'Pyodide/CPython':>16} "
          f"{'vs scalar (CPython)':>20} {'vs scalar (Pyodide)':>20}  output")
    for engine, (c_times, c_out), (p_times, p_out) in runtimes:
        c, py = statistics.fmean(c_times), statistics.fmean(p_times)
        base.setdefault("c", c), base.setdefault("py", py)
        same = c_out == expected and p_out == expected
        rows.append({"engine": engine, "steps": steps, "cpython_us_per_step": round(c * 1e6, 1),
                     "pyodide_node_us_per_step": round(py * 1e6, 1), "pyodide_over_cpython": round(py / c, 2),
                     "speedup_cpython": round(base["c"] / c, 1), "speedup_pyodide": round(base["py"] / py, 1),
                     "identical_output": same})
        print(f"{engine:<8} {c * 1e6:>16.1f} {py * 1e6:>16.1f} {py / c:>15.2f}x {base['c'] / c:>19.1f}x "
              f"{base['py'] / py:>19.1f}x  {'identical' if same else 'DIFFERENT'}")
    return rows


def pyodide_wheel(tmp: Path) -> Path:
    from microgpt.sphinxext.live import build_wheel  # the docs build's own: the same wheel the site ships

    return build_wheel(ROOT, tmp)


def under_pyodide(data: Path, steps: int, tmp: Path, wheel: Path, engine: str) -> tuple[list[float], str]:
    """The port's `microgpt run` under Pyodide in Node (tests/pyodide/run.mjs), with a wheel of this source."""
    argv = ["run", "--data", str(data), "--engine", engine, "--steps", str(steps), "--samples", "0"]
    script = tmp / "pyodide_run.py"
    script.write_text(f"from microgpt.cli import main\nmain({argv!r})\n", encoding="utf-8")
    return step_times(["sh", "-c", f"node {ROOT / 'tests/pyodide/run.mjs'} {ROOT / 'node_modules/pyodide'} "
                       f"{wheel} {data.parent} < {script}"], tmp)


def live_page_timings(site: Path, data: Path, steps: int, engines=BROWSER_ENGINES) -> list[dict]:
    """Press Run on live.html with each engine (a fresh profile each: empty cache, nothing saved; localhost): seconds
    to the first step line and to the end of the Run (all steps and samples), the longest main-thread task while
    training, and the transcript the page shows against the original's."""
    import functools
    import http.server
    import threading

    from playwright.sync_api import sync_playwright

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    expected = (ROOT / "reference" / "microgpt.out.txt").read_text(encoding="utf-8") if steps == 1000 else \
        subprocess.run([sys.executable, "-m", "microgpt", "run", "--data", str(data), "--engine", "floats",
                        "--steps", str(steps)], capture_output=True, text=True, check=True).stdout
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    flags = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync"]
    results = []
    print(f"\nlive.html in headless Chromium, Run ({steps} steps and the samples), each engine from an empty cache:")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=flags)
        for engine in engines:
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/live.html")
            page.evaluate(OPEN_SETTINGS)
            page.fill('[name="steps"]', str(steps))
            page.select_option('[name="engine"]', engine)
            page.evaluate("""() => { window.longest = 0; window.step1 = null; window.last = null;
                const box = document.querySelector('[data-live=transcript]');
                new PerformanceObserver((list) => { if (window.step1 === null || window.last !== null) return;
                  for (const e of list.getEntries()) window.longest = Math.max(window.longest, e.duration); })
                  .observe({ type: "longtask" });
                new MutationObserver((records) => { for (const r of records) for (const node of r.addedNodes) {
                  const text = node.textContent, now = performance.now();
                  if (window.step1 === null && text.includes('step    1')) window.step1 = now;
                  if (window.last === null && text.includes('--- inference')) window.last = now;
                } }).observe(box, { childList: true, subtree: true }); }""")
            start = page.evaluate("performance.now()")
            page.get_by_role("button", name="Run", exact=True).click()
            page.wait_for_function("document.querySelector('.mg-live').dataset.liveState === 'done'", timeout=1_200_000)
            first, last, longest, end, text = page.evaluate("""[window.step1, window.last, window.longest,
                performance.now(), document.querySelector('[data-live=transcript]').textContent]""")
            context.close()
            row = {"engine": engine, "steps": steps, "run_to_first_step_s": round((first - start) / 1000, 2),
                   "training_s": round((last - first) / 1000, 2), "run_s": round((end - start) / 1000, 2),
                   "steps_per_s": round((steps - 1) / ((last - first) / 1000), 1),
                   "longest_task_while_training_ms": longest, "identical_output": text == expected}
            results.append(row)
            print(f"{engine:<8} Run -> first step {row['run_to_first_step_s']} s, whole Run {row['run_s']} s "
                  f"({row['steps_per_s']} steps/s); longest main-thread task while training {longest:.0f} ms "
                  f"(a long task is > 50 ms); {'identical' if row['identical_output'] else 'DIFFERENT'} transcript")
        browser.close()
    httpd.shutdown()
    return results


ENGINE_CLOCK = """() => { window.mgClock = {run: null, first: null, last: null};
  const pre = document.querySelector('[data-live=transcript]');
  document.querySelector('button[data-action=run]').addEventListener('click',
    () => { window.mgClock.run = performance.now(); }, {capture: true});
  new MutationObserver(() => { const lines = pre.textContent.split('\\n').filter(l => l.startsWith('step '));
    if (lines.length && window.mgClock.first === null) window.mgClock.first = performance.now();
    if (lines.length) window.mgClock.last = [lines.length, performance.now()];
  }).observe(pre, {childList: true, subtree: true, characterData: true}); }"""


def engine_timings(site: Path, steps: int = 100) -> dict:
    """live.html in Chromium, Firefox and WebKit, each fresh (empty cache): Run -> first step line, steps/s; then
    Run -> first step line again, fresh, with Python started in the worker rather than restored from the site's
    memory snapshot (the server leaves the snapshot out of runtime.json)."""
    import functools
    import http.server
    import io
    import threading

    sys.path.insert(0, str(ROOT / "tests"))
    from engines.drivers import ENGINES, Chromium, Proxy, Xvfb

    class Quiet(http.server.SimpleHTTPRequestHandler):
        started = False  # runtime.json without its snapshot: the worker starts Python

        def send_head(self):
            if not (self.started and self.path.split("?")[0].endswith("/_static/live/runtime.json")):
                return super().send_head()
            runtime = json.loads((site / "_static/live/runtime.json").read_text(encoding="utf-8"))
            runtime["total_bytes"] -= runtime["files"].pop(runtime.pop("snapshot"))
            body = json.dumps(runtime).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return io.BytesIO(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    display, proxy, results = Xvfb(), Proxy(), {}
    try:
        for name, driver in {"chromium": Chromium, **ENGINES}.items():
            Quiet.started = False
            results[name] = run_timed(driver(display.display, proxy.port, True), httpd, steps)
            Quiet.started = True
            started = run_timed(driver(display.display, proxy.port, True), httpd, steps)
            results[name]["run_to_first_step_started_s"] = started["run_to_first_step_s"]
            print(f"live.html in {name} {results[name]['version']}: Run -> first step line "
                  f"{results[name]['run_to_first_step_s']} s with Python restored from the snapshot, "
                  f"{started['run_to_first_step_s']} s with Python started (each from an empty cache); "
                  f"{results[name]['steps_per_s']} steps/s over {results[name]['steps']} steps")
    finally:
        display.close()
        proxy.close()
        httpd.shutdown()
    return results


def run_timed(browser, httpd, steps: int) -> dict:
    """Run on live.html in this browser (then closed): Run -> first step line, steps/s."""
    try:
        browser.open(f"http://127.0.0.1:{httpd.server_address[1]}/live.html")
        browser.js(f"() => {{ {OPEN_SETTINGS} }}")
        browser.fill('[name="steps"]', steps)
        browser.fill('[name="samples"]', 0)
        browser.js(ENGINE_CLOCK)
        browser.click('button[data-action="run"]')
        browser.wait("() => document.querySelector('.mg-live').dataset.liveState === 'done'", timeout=900)
        clock = browser.js("() => window.mgClock")
        (n, last), first = clock["last"], clock["first"]
        return {"version": browser.version, "steps": n, "run_to_first_step_s": round((first - clock["run"]) / 1e3, 2),
                "steps_per_s": round((n - 1) / ((last - first) / 1e3), 1)}
    finally:
        browser.close()


def reference_transcript(steps: int) -> str | None:
    """What the original prints for 1000 steps and no samples: the recorded transcript, up to its samples."""
    if steps != 1000:
        return None
    transcript = (ROOT / "reference" / "microgpt.out.txt").read_text(encoding="utf-8")
    return transcript[:transcript.index("sample  1:")]


if __name__ == "__main__":
    main()
