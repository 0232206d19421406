"""A live run as text and back, bit for bit: what lets a reader's run follow them from page to page.

The page saves after every step, so a save must stay small however long the run: the recorded checkpoints
(every `checkpoint_every` steps, the bulk of a long run) can be kept apart, each written once (`stored` names
those the page already holds), the current step's checkpoint is the model's weights (saved once, not twice), and
the PCA chain's fits are saved rather than fitted again on restore.
"""

import base64
import json
import struct
from array import array

from .config import SampleConfig
from .form import PageError
from .recorder import Printed

SAVE_FORMAT = 2  # of dump's text
ADAM_TRACES = ("value", "grad", "m", "v", "update")  # what the recorder keeps of each traced parameter


def _pack(floats) -> str:
    """Doubles as base64 of their IEEE 754 bytes: every bit kept."""
    return base64.b64encode(struct.pack(f"<{len(floats)}d", *floats)).decode()


def _unpack(text: str, count: int | None = None) -> list[float]:
    raw = base64.b64decode(text)
    if count is not None and len(raw) != 8 * count:
        raise ValueError(f"{len(raw) // 8} numbers where the model has {count}")
    return list(struct.unpack(f"<{len(raw) // 8}d", raw))


def dump(session, stored=frozenset()) -> str:
    """The whole run as text: settings, documents, weights, Adam's buffers, step, horizon, random state, the
    recorded history and the transcript; the checkpoints of the steps in `stored` are left out (see `checkpoints`)."""
    engine, trainer = session.run.engine, session.run.trainer
    version, internal, gauss_next = session.run.rng.getstate()
    sampler = session.sampler
    return json.dumps({
        "format": SAVE_FORMAT, "form": session.form, "name": session.name,
        "documents": None if session.documents is None else base64.b64encode(session.documents).decode(),
        "step": trainer.step, "num_steps": trainer.num_steps, "rng": [version, list(internal), gauss_next],
        "weights": _pack(engine.weights()), **dict(zip("mv", map(_pack, engine.moments()))),
        "lines": session.lines,
        "recorder": _dump_recorder(session.recorder, stored | {trainer.step}),  # the current step's: "weights"
        "sampler": None if sampler is None else [sampler[0].temperature, sampler[0].num_samples, sampler[1]]})


def checkpoints(session, stored=frozenset()) -> dict[str, str]:
    """The recorded checkpoints that never change (the regular ones), but for the steps in `stored`: step -> packed
    weights, for the page to keep apart from `dump`'s text."""
    rec = session.recorder
    return {str(step): _pack(w) for step, w in rec.weights.items()
            if step % rec.snap.checkpoint_every == 0 and step not in stored}


def load(text: str, make_session, kept: dict[str, str] | None = None):
    """A run saved by `dump`, exactly as it was; `make_session(form, documents, name)` sets up the fresh run;
    `kept` holds the checkpoints `dump` left out."""
    try:
        saved = json.loads(text)
        if saved.get("format") != SAVE_FORMAT:
            raise ValueError(f"format {saved.get('format')!r}, expected {SAVE_FORMAT}")
        documents = None if saved["documents"] is None else base64.b64decode(saved["documents"])
        session = make_session(saved["form"], documents, saved["name"])  # its form names its engine
        engine, trainer = session.run.engine, session.run.trainer
        engine.load_state(*(_unpack(saved[k], engine.num_params) for k in ("weights", "m", "v")))
        trainer.step, trainer.num_steps = saved["step"], saved["num_steps"]
        version, internal, gauss_next = saved["rng"]
        session.run.rng.setstate((version, tuple(internal), gauss_next))
        session.lines = saved["lines"]
        _load_recorder(session.recorder, session.run, saved["recorder"], kept or {})
        if saved["sampler"]:
            temperature, num_samples, index = saved["sampler"]
            session.sampler = (SampleConfig(temperature=temperature, num_samples=num_samples), index)
    except PageError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, struct.error) as e:
        raise PageError("run", f"the saved run cannot be restored ({e}); press Reset to start again") from None
    return session


def _dump_recorder(rec, stored=frozenset()) -> dict:
    return {"loss": _pack(rec.training["loss"]), "learning_rate": _pack(rec.training["learning_rate"]),
            "adam": {f"{p['name']}/{k}": _pack(p[k]) for p in rec.adam["params"] for k in ADAM_TRACES},
            "steps": sorted(rec.weights),
            "weights": {str(step): _pack(w) for step, w in rec.weights.items() if step not in stored},
            "fits": [[step, _pack(mean), [_pack(row) for row in basis], _pack(ratio)]
                     for step, (mean, basis, ratio) in rec.fits]}


def _load_recorder(rec, run, saved: dict, kept: dict[str, str]) -> None:
    """What the recorder kept, set back, the PCA chain's fits included."""
    rec.training["loss"] = Printed(_unpack(saved["loss"]))
    rec.training["learning_rate"] = _unpack(saved["learning_rate"])
    docs = run.docs
    rec.training["doc"] = [docs[i % len(docs)] for i in range(len(rec.training["loss"]))]
    rec.adam["learning_rate"] = list(rec.training["learning_rate"])
    for p in rec.adam["params"]:
        for k in ADAM_TRACES:
            p[k] = _unpack(saved["adam"][f"{p['name']}/{k}"])
    weights = {**kept, **saved["weights"]}
    current = array("d", run.engine.weights())  # the current step's checkpoint, saved as the model's weights
    rec.weights = {step: array("d", _unpack(weights[str(step)], run.engine.num_params)) if str(step) in weights
                   else current for step in saved["steps"]}
    rec.fits = [(step, (_unpack(mean), [_unpack(row) for row in basis], _unpack(ratio)))
                for step, mean, basis, ratio in saved["fits"]]
