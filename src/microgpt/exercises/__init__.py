"""Predict, then check: the site's exercises, checked by the port itself, in Jupyter or in the page's worker.

    >>> from microgpt import exercises
    >>> exercises.check("training-untrained-loss", 3.3)       # a number, checked against the recorded run
    >>> exercises.check("model-softmax", softmax)             # your function, against the port's, on hidden cases

Every expected value is computed: from the recorded run's settings and snapshot documents (`Context`), or in the
browser from the reader's own run. `catalog` holds the exercises; `code` the hidden checks of the code exercises.
NumPy-free: the browser's Python runs it.
"""

from functools import cache

from .catalog import EXERCISES, Exercise, by_page
from .context import Context
from .feedback import Feedback

__all__ = ["EXERCISES", "Exercise", "Context", "Feedback", "by_page", "check", "get"]


def get(exercise_id: str) -> Exercise:
    """The exercise called exercise_id; an unknown id names the ones that exist on the same page."""
    if exercise_id not in EXERCISES:
        page = exercise_id.split("-")[0]
        near = [e for e in EXERCISES if e.startswith(page + "-")] or list(EXERCISES)
        raise KeyError(f"no exercise {exercise_id!r}; exercises are {', '.join(near)}")
    return EXERCISES[exercise_id]


def check(exercise_id: str, answer, facts: dict | None = None, context: Context | None = None) -> Feedback:
    """Check an answer (a number, a letter, a choice, a function or its source): right, wrong or error, in words."""
    exercise = get(exercise_id)
    if facts is None:
        facts = exercise.facts(context or recorded())
    return exercise.check(answer, facts)


@cache
def recorded() -> Context:
    """The recorded run's context, made once: its documents are recorded on the first question that reads one."""
    return Context()


def _check_page(exercise_id: str, answer, facts, source: str = "recorded") -> dict:
    """The worker's entry: facts the build computed (recorded run) or, for "live", the reader's run's own."""
    if source == "live":
        from ..live import current

        facts = get(exercise_id).facts(Context.of_session(current()))
    return check(exercise_id, answer, facts).as_dict()


def _facts_live(exercise_id: str) -> dict:
    from ..live import current

    return get(exercise_id).facts(Context.of_session(current()))


API = {"check": _check_page, "facts": _facts_live}  # what the page's worker may call (microgpt.worker)
