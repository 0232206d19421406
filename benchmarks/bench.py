"""Time one training step of every engine side by side in one run, and print the ratios.

The original runs as a subprocess with `num_steps` edited (microgpt.reference); its per-step time is
(T(N steps) - T(0 steps)) / N, so start-up, data loading and initialisation cancel out. The port's
engines are timed the same way, in subprocesses of the same interpreter. Each measurement is repeated
and the fastest kept: the machines are shared and noisy. Outputs are compared too: a speed-up that
changes a byte does not count.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from microgpt.reference import edited_source

ROOT = Path(__file__).resolve().parent.parent


def timed(cmd, cwd) -> tuple[float, str]:
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=True)
    return time.perf_counter() - start, result.stdout


def measure(make_cmd, steps: int, repeat: int, cwd) -> tuple[float, str]:
    """Seconds per training step (fastest of `repeat`) and the output of the run with `steps` steps."""
    best_n = best_0 = float("inf")
    for _ in range(repeat):
        t_n, out = timed(make_cmd(steps), cwd)
        t_0, _ = timed(make_cmd(0), cwd)
        best_n, best_0 = min(best_n, t_n), min(best_0, t_0)
    return max(best_n - best_0, 1e-9) / steps, out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="names.txt")
    p.add_argument("--steps", type=int, default=40, help="steps timed for the original and the scalar port")
    p.add_argument("--numpy-steps", type=int, default=1000, help="steps timed for the NumPy engine")
    p.add_argument("--save", metavar="JSON", help="also write the figures here (the docs show benchmarks/results.json)")
    p.add_argument("--repeat", type=int, default=2, help="repetitions; the fastest is kept")
    args = p.parse_args(argv)
    data = Path(args.data).resolve()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "input.txt").write_bytes(data.read_bytes())
        original = (ROOT / "reference" / "microgpt.py").read_text(encoding="utf-8")

        def reference_cmd(steps, samples=0):
            script = tmp / f"microgpt_{steps}.py"
            script.write_text(edited_source(original, num_steps=steps, num_samples=samples), encoding="utf-8")
            return [sys.executable, script.name]

        def port_cmd(engine):
            return lambda steps: [sys.executable, "-m", "microgpt", "run", "--data", str(data), "--engine", engine,
                                  "--steps", str(steps), "--samples", "0"]

        def expected(steps):
            """What the original prints for `steps` steps and no samples: the transcript's lines at 1000."""
            if steps == 1000:
                transcript = (ROOT / "reference" / "microgpt.out.txt").read_text(encoding="utf-8")
                return transcript[:transcript.index("sample  1:")]
            return timed(reference_cmd(steps), tmp)[1]

        rows = []
        ref_step, ref_out = measure(reference_cmd, args.steps, args.repeat, tmp)
        rows.append(("reference/microgpt.py", ref_step, args.steps, True))
        scalar_step, scalar_out = measure(port_cmd("scalar"), args.steps, args.repeat, tmp)
        rows.append(("microgpt (scalar port)", scalar_step, args.steps, scalar_out == ref_out))
        numpy_step, numpy_out = measure(port_cmd("numpy"), args.numpy_steps, args.repeat, tmp)
        rows.append(("microgpt --engine numpy", numpy_step, args.numpy_steps, numpy_out == expected(args.numpy_steps)))
    print(f"{'engine':<26} {'steps':>6} {'us/step':>12} {'speed-up vs reference':>22}  output")
    for name, per_step, steps, same in rows:
        print(f"{name:<26} {steps:>6} {per_step * 1e6:>12.1f} {ref_step / per_step:>21.1f}x  "
              f"{'identical' if same else 'DIFFERENT'}")
    if args.save:
        import json
        import os
        import platform

        results = {
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} "
                       f"{platform.python_version()}, NumPy {__import__('numpy').__version__}",
            "date": time.strftime("%Y-%m-%d"),
            "command": "nox -s bench -- " + " ".join(argv if argv is not None else sys.argv[1:]),
            "engines": [{"name": name, "steps": steps, "us_per_step": round(per_step * 1e6, 1),
                         "speedup": round(ref_step / per_step, 1), "identical_output": same}
                        for name, per_step, steps, same in rows]}
        Path(args.save).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    if not all(same for *_, same in rows):
        sys.exit("an engine's output differs from the reference's")


if __name__ == "__main__":
    main()
