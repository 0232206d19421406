"""Time a training step of the original and of each engine side by side in one run, and print the ratios.

Every program prints one transcript line per step; run unbuffered, the time between the first and the last
step line, over the steps in between, is the mean cost of a step, with start-up, data loading, initialisation
and sampling left out. The original's cyclic garbage collector makes its step cost bursty (a 50-step window
once measured 202 ms/step and a 100-step one 315), so its window is long. Outputs are compared too: a
speed-up that changes a byte does not count.
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
    p.add_argument("--save", metavar="JSON", help="also write the figures here (the docs show benchmarks/results.json)")
    args = p.parse_args(argv)
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

        runs = [("reference/microgpt.py", args.steps, *reference(args.steps), None)]
        runs.append(("microgpt (scalar port)", args.steps, *port("scalar", args.steps), runs[0][3]))
        same_window = args.numpy_steps == args.steps
        want = runs[0][3] if same_window else reference_transcript(args.numpy_steps) or reference(args.numpy_steps)[1]
        runs.append(("microgpt --engine numpy", args.numpy_steps, *port("numpy", args.numpy_steps), want))

    ref_mean = statistics.fmean(runs[0][2])
    rows = []
    print(f"{'engine':<26} {'steps':>6} {'mean us/step':>13} {'median':>11} {'speed-up (mean)':>16}  output")
    for name, steps, times, out, want in runs:
        mean, median = statistics.fmean(times), statistics.median(times)
        same = want is None or out == want
        rows.append({"name": name, "steps": steps, "us_per_step": round(mean * 1e6, 1),
                     "median_us_per_step": round(median * 1e6, 1), "speedup": round(ref_mean / mean, 1),
                     "identical_output": same})
        print(f"{name:<26} {steps:>6} {mean * 1e6:>13.1f} {median * 1e6:>11.1f} {ref_mean / mean:>15.1f}x  "
              f"{'identical' if same else 'DIFFERENT'}")
    if args.save:
        results = {
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} "
                       f"{platform.python_version()}, NumPy {numpy.__version__}",
            "date": time.strftime("%Y-%m-%d"),
            "command": f"nox -s bench -- --steps {args.steps} --numpy-steps {args.numpy_steps}",
            "engines": rows}
        Path(args.save).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    if not all(r["identical_output"] for r in rows):
        sys.exit("an engine's output differs from the reference's")


def reference_transcript(steps: int) -> str | None:
    """What the original prints for 1000 steps and no samples: the recorded transcript, up to its samples."""
    if steps != 1000:
        return None
    transcript = (ROOT / "reference" / "microgpt.out.txt").read_text(encoding="utf-8")
    return transcript[:transcript.index("sample  1:")]


if __name__ == "__main__":
    main()
