"""The scalar port's whole default run (minutes), as `microgpt run` prints it: started by conftest.py in a process of
its own when the session starts, so the other tests go on meanwhile; test_cli and test_numpy_engine read its result.

    python tests/default_run.py NAMES_TXT OUT_JSON

OUT_JSON gets transcript (what the CLI printed), losses (every step's, unrounded) and weights (the trained
parameters); it is written whole or not at all.
"""

import io
import json
import sys
from pathlib import Path


def record(names: Path) -> dict:
    """Watch the CLI's own Run and Trainer as they work."""
    from microgpt.cli import main
    from microgpt.run import Run
    from microgpt.training import Trainer

    runs, losses, out = [], [], io.StringIO()
    setup, train = Run.setup.__func__, Trainer.train
    Run.setup = classmethod(lambda cls, *a, **k: runs.append(setup(cls, *a, **k)) or runs[-1])
    Trainer.train = lambda self, *a, **k: losses.extend(train(self, *a, **k)) or losses
    stdout, sys.stdout = sys.stdout, out
    try:
        code = main(["run", "--data", str(names)])
    finally:
        sys.stdout = stdout
    assert code == 0, f"microgpt run exited with {code}"
    return {"transcript": out.getvalue(), "losses": losses, "weights": runs[0].engine.weights()}


if __name__ == "__main__":
    names, out = Path(sys.argv[1]), Path(sys.argv[2])
    partial = out.with_suffix(".partial")
    partial.write_text(json.dumps(record(names)), encoding="utf-8")  # floats as repr: they read back exactly
    partial.replace(out)
