"""Where an exercise's facts come from: the recorded run (its settings and its snapshot documents) or the reader's.

The build passes the snapshot documents the scenes draw; the worker passes the reader's live session; Jupyter
passes nothing, and the documents a question reads are recorded here from the run the site records.
"""

import hashlib
import json
from functools import cached_property

from ..run import Run
from ..snapshot import texts


class Context:
    """A run and the documents its scenes draw, each made only when an exercise asks for it."""

    def __init__(self, run: Run | None = None, documents: dict | None = None, session=None):
        self._run, self.documents, self.session = run, dict(documents or {}), session

    @classmethod
    def of_session(cls, session) -> "Context":
        """The reader's run on the page (microgpt.live.Session)."""
        return cls(run=session.run, session=session)

    @cached_property
    def run(self) -> Run:
        """The run whose facts are asked for; by default a fresh one with the site's settings (the recorded run's)."""
        return self._run if self._run is not None else Run.setup()

    def document(self, name: str) -> dict:
        """A scene's document (e.g. "training.json") of this run at its current step."""
        if name not in self.documents:
            if self.session is not None:
                self.documents[name] = json.loads(self.session.document(name))
            else:
                self.documents[name] = json.loads(texts(*self.recorded, [name])[name])
        return self.documents[name]

    @cached_property
    def recorded(self):
        """(recorder, data sha256): this run's settings on names.txt trained to the horizon, as the build records
        them (with the NumPy engine where there is NumPy: seconds, not minutes)."""
        from ..dataset import resolve_data_path
        from ..recorder import Recorder

        try:
            import numpy  # noqa: F401
            engine = "numpy"
        except ImportError:
            engine = "scalar"
        path = resolve_data_path()
        recorder = Recorder(Run.setup(self.run.config, self.run.train_config, data=path, engine=engine))
        recorder.train(self.run.train_config.num_steps)
        return recorder, hashlib.sha256(path.read_bytes()).hexdigest()

    def untrained_loss(self) -> float:
        """Step 1's loss: the first document through the weights as drawn, before any update."""
        if self.session is not None and self.session.recorder.training["loss"]:
            return self.session.recorder.training["loss"][0]
        r = self.run
        if r.trainer.step:
            return self.document("training.json")["loss"][0]
        from ..training import document_tokens

        tokens, n = document_tokens(r.tokenizer, r.docs[0], r.config.block_size)
        return float(r.engine.loss(tokens, n).data)
