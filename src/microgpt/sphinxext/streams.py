"""A cell's printed output, the same in every build: the kernel flushes stdout on a timer, so one `print` can
reach the notebook as two pieces ("text" and "\\n" apart), and MyST-NB's merge (nb_merge_streams) strips each
piece's end and adds a newline, which turns that split into a blank line that one build has and the next lacks.
Here the pieces of a stream are joined exactly as they were written."""

import re

from nbformat import NotebookNode

_CARRIAGE_RETURN = re.compile(r".*\r(?=[^\n])")  # a line rewritten in place (progress output) keeps its last state
_BACKSPACE = re.compile("[^\n]\x08")  # a character, then a backspace that erases it


def coalesce_streams(outputs: list[NotebookNode]) -> list[NotebookNode]:
    """One output per stream name: its pieces joined as written, then, as MyST-NB ends every stream, with one
    newline at the end; stdout before stderr where they are adjacent."""
    merged, streams = [], {}
    for output in outputs or []:
        if output["output_type"] != "stream":
            merged.append(output)
        elif output["name"] in streams:
            streams[output["name"]]["text"] += output["text"]
        else:
            streams[output["name"]] = output
            merged.append(output)
    for output in streams.values():
        text = output["text"]
        while (shorter := _BACKSPACE.sub("", text)) != text:
            text = shorter
        output["text"] = _CARRIAGE_RETURN.sub("", text.rstrip() + "\n")
    for i in range(len(merged) - 1):
        a, b = merged[i], merged[i + 1]
        if a["output_type"] == b["output_type"] == "stream" and (a["name"], b["name"]) == ("stderr", "stdout"):
            merged[i], merged[i + 1] = b, a
    return merged


def setup_streams(app):
    from myst_nb.core import render

    render.coalesce_streams = coalesce_streams  # MyST-NB's renderer calls it by this name (myst_nb.core.render)
