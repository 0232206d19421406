"""`microgpt run`: the original's transcript from the command line, its constants as options."""

import argparse
import sys

from . import __version__
from .config import ConfigError, GPTConfig, SampleConfig, TrainConfig
from .dataset import DATA_ENV, DataError
from .run import ENGINES, run

# config field -> the option that sets it, so errors name what the user typed
OPTION_OF = {
    "seed": "--seed", "n_embd": "--n-embd", "n_head": "--n-head", "n_layer": "--n-layer",
    "block_size": "--block-size", "learning_rate": "--learning-rate", "num_steps": "--steps",
    "temperature": "--temperature", "num_samples": "--samples",
}


class Parser(argparse.ArgumentParser):
    """argparse, but errors are one line: no usage block before them."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def add_model_options(p: argparse.ArgumentParser) -> None:
    """The original's constants as options, with its defaults (read from the config dataclasses)."""
    g, t, s = GPTConfig(), TrainConfig(), SampleConfig()
    p.add_argument("--data", metavar="PATH",
                   help=f"names file (default: ${DATA_ENV}, else the cache, else a download)")
    p.add_argument("--engine", choices=ENGINES, default="scalar",
                   help="scalar: the original's Values (default); numpy: the same model with arrays")
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
                   help=f"sampling temperature (default {s.temperature})")
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
    p_run = sub.add_parser("run", help="train and sample, printing exactly what microgpt.py prints")
    add_model_options(p_run)
    return parser


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
            run(config, train, sample, data=args.data, engine=args.engine, progress=progress_bar())
            return 0
        return args.handler(args)
    except ConfigError as e:
        return fail(prog, f"argument {OPTION_OF.get(e.field, e.field)}: {e.detail}")
    except DataError as e:
        return fail(prog, f"argument --data: {e}")
    except BrokenPipeError:
        sys.stderr.close()  # `microgpt run | head`: the reader left; not an error worth a traceback
        return 0
    except KeyboardInterrupt:
        return 130
