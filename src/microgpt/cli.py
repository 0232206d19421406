"""`microgpt run`: the original's transcript from the command line, its constants as options."""

import argparse
import math
import sys
from pathlib import Path

from . import __version__, limits
from .config import ConfigError, GPTConfig, SampleConfig, SnapshotConfig, TrainConfig
from .dataset import DATA_ENV, DataError, read_data
from .dataset_report import dataset_report
from .model import DivergedError
from .run import DEFAULT_ENGINE, ENGINES, run
from .training import NonFiniteLossError

# config field -> the option that sets it, so errors name what the user typed
OPTION_OF = {
    "seed": "--seed", "n_embd": "--n-embd", "n_head": "--n-head", "n_layer": "--n-layer",
    "block_size": "--block-size", "learning_rate": "--learning-rate", "num_steps": "--steps",
    "temperature": "--temperature", "num_samples": "--samples", "probes": "--probes",
    "checkpoint_every": "--checkpoint-every",
}


# the options a page's form sets too (the live page names its fields after them)
FORM_OPTIONS = ("seed", "n-embd", "n-head", "n-layer", "block-size", "learning-rate", "steps", "temperature", "samples")


class Parser(argparse.ArgumentParser):
    """argparse, but errors are one line: no usage block before them."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def config_error_option(e: ConfigError) -> str:
    """The option a ConfigError is about."""
    return OPTION_OF.get(e.field, e.field)


def add_model_options(p: argparse.ArgumentParser) -> None:
    """The original's constants as options, with its defaults (read from the config dataclasses)."""
    p.add_argument("--data", metavar="PATH",
                   help=f"names file (default: ${DATA_ENV}, else the cache, else a download)")
    p.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE,
                   help="scalar: the original's Values (default); numpy: the same model with arrays; "
                        "floats: the same model on lists of floats, no NumPy")
    add_form_options(p)


def add_form_options(p: argparse.ArgumentParser) -> None:
    """The FORM_OPTIONS: the model's shape, the seed, the schedule and sampling."""
    g, t, s = GPTConfig(), TrainConfig(), SampleConfig()
    p.add_argument("--seed", type=int, default=t.seed, help=f"random seed (default {t.seed})")
    p.add_argument("--n-embd", type=int, default=g.n_embd, help=f"embedding dimension (default {g.n_embd})")
    p.add_argument("--n-head", type=int, default=g.n_head, help=f"attention heads (default {g.n_head})")
    p.add_argument("--n-layer", type=int, default=g.n_layer, help=f"layers (default {g.n_layer})")
    p.add_argument("--block-size", type=int, default=g.block_size,
                   help=f"maximum sequence length (default {g.block_size})")
    p.add_argument("--learning-rate", type=float, default=t.learning_rate,
                   help=f"peak learning rate (default {t.learning_rate})")
    p.add_argument("--steps", type=int, default=t.num_steps, help=f"training steps (default {t.num_steps})")
    p.add_argument("--temperature", type=float, default=s.temperature,
                   help=f"sampling temperature (default {s.temperature}); one so small that dividing by it overflows "
                        "samples greedily, the most likely token every time (the original stops there)")
    p.add_argument("--samples", type=int, default=s.num_samples, help=f"names to generate (default {s.num_samples})")


def configs(args) -> tuple[GPTConfig, TrainConfig, SampleConfig]:
    """The three config dataclasses from parsed options; a ConfigError names the offending field."""
    config = GPTConfig(n_embd=args.n_embd, n_head=args.n_head, n_layer=args.n_layer, block_size=args.block_size)
    train = TrainConfig(seed=args.seed, learning_rate=args.learning_rate, num_steps=args.steps)
    sample = SampleConfig(temperature=args.temperature, num_samples=args.samples)
    return config, train, sample


def progress_bar(stream=sys.stderr):
    """A one-line progress bar on a terminal's stderr; None when stderr is not a terminal."""
    if not stream.isatty():
        return None

    def show(done, total):
        width = 30
        filled = width * done // max(total, 1)
        stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            stream.write("\r" + " " * (width + 2 * len(str(total)) + 4) + "\r")
        stream.flush()

    return show


def build_parser() -> Parser:
    parser = Parser(prog="microgpt", description="Karpathy's microgpt.py, ported and illustrated.")
    parser.add_argument("--version", action="version", version=f"microgpt-illustrated {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    p_run = sub.add_parser("run", help="train and sample, printing exactly what microgpt.py prints",
                           epilog=limits.help_text())
    add_model_options(p_run)
    p_snap = sub.add_parser("snapshot", help="record a run as JSON files for the site's scenes, or check them")
    target = p_snap.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", metavar="DIR", help="write the snapshot files here (replacing an earlier export)")
    target.add_argument("--check", metavar="DIR", help="validate the files in DIR against the schema")
    add_model_options(p_snap)
    snap = SnapshotConfig()
    p_snap.add_argument("--checkpoint-every", type=int, default=snap.checkpoint_every,
                        help=f"steps between checkpoints (default {snap.checkpoint_every}; step 0 and the last always)")
    p_snap.add_argument("--probes", type=words, default=snap.probes,
                        help=f"comma-separated words from the dataset to trace (default {','.join(snap.probes)})")
    p_snap.add_argument("--temperatures", type=numbers, default=snap.temperatures,
                        help="comma-separated extra sampling temperatures "
                             f"(default {','.join(map(str, snap.temperatures))}; --temperature is always included)")
    return parser


def words(text: str) -> tuple[str, ...]:
    items = tuple(w.strip() for w in text.split(","))
    if not all(items):
        raise argparse.ArgumentTypeError(f"expected comma-separated words, got {text!r}")
    return items


def numbers(text: str) -> tuple[float, ...]:
    try:
        items = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None
    if not all(math.isfinite(x) and x > 0 for x in items):
        raise argparse.ArgumentTypeError(f"temperatures must be positive finite numbers, got {text!r}")
    return items


def snapshot(args, prog: str) -> int:
    """`microgpt snapshot --out DIR` records a run; `--check DIR` validates one."""
    from .snapshot import SnapshotError, check_dir, export

    if args.check:
        try:
            paths = check_dir(Path(args.check))
        except SnapshotError as e:
            return fail(prog, str(e))
        print(f"{len(paths)} files in {args.check} follow the schema")
        return 0
    config, train, sample = configs(args)
    snap = SnapshotConfig(checkpoint_every=args.checkpoint_every, probes=args.probes, temperatures=args.temperatures)
    data = note_dataset(prog, args.data, config.block_size)
    try:
        paths = export(Path(args.out), config, train, sample, snap, data=data, engine=args.engine,
                       progress=progress_bar())
    except SnapshotError as e:
        return fail(prog, str(e))
    print(f"wrote {len(paths)} files to {args.out}")
    return 0


def note_dataset(prog: str, data, block_size: int) -> Path:
    """The data file, after saying on stderr what it will do to the model (stdout stays the original's)."""
    path, raw = read_data(data)
    for note in dataset_report(raw, block_size, str(path))["notes"]:
        print(f"{prog}: note: {note}", file=sys.stderr)
    return path


def fail(prog: str, message: str) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr)
    return 2


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    prog = f"microgpt {args.command}"
    try:
        if args.command == "run":
            config, train, sample = configs(args)
            data = note_dataset(prog, args.data, config.block_size)
            run(config, train, sample, data=data, engine=args.engine, progress=progress_bar())
            return 0
        return snapshot(args, prog)
    except ConfigError as e:
        return fail(prog, f"argument {config_error_option(e)}: {e.detail}")
    except DataError as e:
        return fail(prog, f"argument --data: {e}")
    except (NonFiniteLossError, DivergedError) as e:  # the one setting that makes numbers overflow
        what = "training stopped at" if isinstance(e, NonFiniteLossError) else "training diverged:"
        return fail(prog, f"argument --learning-rate: {what} {e}; try a value below {args.learning_rate:g}")
    except BrokenPipeError:
        sys.stderr.close()  # `microgpt run | head`: the reader left; not an error worth a traceback
        return 0
    except KeyboardInterrupt:
        return 130
