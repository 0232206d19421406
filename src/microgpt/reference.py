"""Run the original with its constants edited: the yardstick every other engine is measured against."""

import os
import re
import subprocess
import sys
from pathlib import Path

from .config import GPTConfig, SampleConfig, TrainConfig

# option name -> (pattern matching the constant's line in microgpt.py, replacement template)
EDITS = {
    "seed": (r"^random\.seed\(42\)", "random.seed({})"),
    "n_embd": (r"^n_embd = 16 ", "n_embd = {} "),
    "n_head": (r"^n_head = 4 ", "n_head = {} "),
    "n_layer": (r"^n_layer = 1 ", "n_layer = {} "),
    "block_size": (r"^block_size = 16 ", "block_size = {} "),
    "learning_rate": (r"^learning_rate, beta1, beta2, eps_adam = 0\.01,",
                      "learning_rate, beta1, beta2, eps_adam = {},"),
    "num_steps": (r"^num_steps = 1000 ", "num_steps = {} "),
    "temperature": (r"^temperature = 0\.5 ", "temperature = {} "),
    "num_samples": (r"^for sample_idx in range\(20\):", "for sample_idx in range({}):"),
}


def edited_source(source: str, **constants) -> str:
    """The original's text with some constants changed, as a person would edit them; nothing else moves."""
    for name, value in constants.items():
        pattern, template = EDITS[name]
        source, count = re.subn(pattern, template.format(repr(value)), source, count=1, flags=re.M)
        if count != 1:
            raise ValueError(f"cannot find the line that sets {name} in the reference source")
    return source


def constants_of(config: GPTConfig, train: TrainConfig, sample: SampleConfig) -> dict:
    """The edits that make the original run with these settings (the ones that differ from its defaults)."""
    values = {**vars(config), **vars(train), **vars(sample)}
    defaults = {**vars(GPTConfig()), **vars(TrainConfig()), **vars(SampleConfig())}
    return {k: v for k, v in values.items() if k in EDITS and v != defaults[k]}


def run_reference(reference: Path, data: Path, workdir: Path, **constants) -> str:
    """Stdout of the edited original, run in workdir with data copied to input.txt as it expects."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "input.txt").write_bytes(Path(data).read_bytes())
    script = workdir / "microgpt.py"
    script.write_text(edited_source(Path(reference).read_text(encoding="utf-8"), **constants), encoding="utf-8")
    env = {**os.environ, "PYTHONUTF8": "1"}  # the original opens input.txt in the locale's encoding
    result = subprocess.run([sys.executable, script.name], cwd=workdir, capture_output=True, text=True,
                            encoding="utf-8", env=env, check=True)
    return result.stdout
