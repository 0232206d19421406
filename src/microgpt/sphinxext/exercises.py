"""`exercise`: one exercise of `microgpt.exercises`, where the page teaches its idea; `exercise-summary`: progress.

    ```{exercise} training-untrained-loss
    ```

The question, hints and solution come from the catalog (the notebooks carry the same text), filled in with the
facts the port computes now for the recorded run (logged, for review). HTML gets the answer field and the Check,
Hint and Show solution buttons (`_static/exercises/exercises.js` asks the page's worker to check); other builders
get the question, the hints and the solution as text. Numbered per page; `#exercise-<id>` links to each.

A small directive of our own rather than sphinx-exercise: its admonitions hold text typed in the page and carry
no data- attributes, where ours come from the package (one source for the page and the notebook) and carry the
hooks the browser side reads.
"""

import html
import json
from functools import cache
from pathlib import Path

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from .shared import track_docs

logger = logging.getLogger(__name__)
DOCUMENTS = {"training": "training.json", "autograd": "autograd.json", "adam": "adam.json",
             "embeddings": "embeddings.json", "sampling": "inference.json"}  # scene -> the document it draws


class exercise(nodes.General, nodes.Element):
    """One exercise: HTML draws its frame and form; other builders show its children (question, hints, solution)."""


class exercise_part(nodes.General, nodes.Element):
    """A hint or the solution: hidden in HTML until asked for."""


class exercise_summary(nodes.General, nodes.Element):
    """Every page's exercises, for the reader's progress on the home page."""


@cache
def recorded_context(snapshots: str):
    """The recorded run's settings and the snapshot documents the scenes draw (one per build process)."""
    from ..exercises import Context

    folder = Path(snapshots)
    documents = {name: json.loads((folder / name).read_text(encoding="utf-8"))
                 for name in set(DOCUMENTS.values()) if (folder / name).is_file()}
    return Context(documents=documents)


class ExerciseDirective(SphinxDirective):
    required_arguments = 1

    def run(self):
        from ..exercises import EXERCISES

        exercise_id = self.arguments[0]
        if exercise_id not in EXERCISES:
            page = exercise_id.split("-")[0]
            known = [e for e in EXERCISES if e.startswith(page + "-")] or list(EXERCISES)
            raise self.error(f"unknown exercise {exercise_id!r}; exercises are {', '.join(known)}")
        ex = EXERCISES[exercise_id]
        seen = self.env.temp_data.setdefault("microgpt_exercises", [])
        if exercise_id in seen:
            raise self.error(f"exercise {exercise_id!r} is already on this page")
        seen.append(exercise_id)
        facts = self.facts(ex)  # the page carries them unless its Check runs the experiment itself
        node = exercise(id=ex.id, kind=ex.kind, number=len(seen), title=ex.title,
                        facts=facts if ex.build_facts else None, live=ex.live,
                        scene=ex.scene or "", label=ex.label, starter=ex.starter, choices=list(ex.choices))
        node["ids"] = [f"exercise-{ex.id}"]
        self.set_source_info(node)
        heading = nodes.paragraph(classes=["mg-exercise-title"])
        heading += nodes.strong(text=f"Exercise {len(seen)}: {ex.title}")
        node += heading
        question = nodes.container(classes=["mg-exercise-question"])
        question += self.parse_text_to_nodes(ex.render(ex.question, facts))
        node += question
        for i, hint in enumerate(ex.hints, 1):
            part = exercise_part(role="hint", classes=["mg-exercise-hint"])
            part += self.parse_text_to_nodes(f"**Hint {i}.**\n\n" + ex.render(hint, facts))  # a fence starts a line
            node += part
        part = exercise_part(role="solution", classes=["mg-exercise-solution"])
        part += self.parse_text_to_nodes("**Solution.**\n\n" + ex.render(ex.solution, facts))
        node += part
        self.env.microgpt_exercise_docs = getattr(self.env, "microgpt_exercise_docs", set()) | {self.env.docname}
        return [node]

    def facts(self, ex) -> dict | None:
        """The recorded run's facts, computed now (an experiment's too: its solution states the outcome)."""
        folder = Path(self.env.srcdir) / self.config.microgpt_snapshot_dir
        if ex.scene:
            path = folder / DOCUMENTS[ex.scene]
            if not path.is_file():
                raise self.error(f"exercise {ex.id!r} reads {path.name}, which is not in {folder}")
            self.env.note_dependency(str(path))
        try:
            facts = ex.facts(recorded_context(str(folder)))
        except Exception as e:  # a bug in the catalog: say which exercise, not a traceback
            raise self.error(f"exercise {ex.id!r}: its facts cannot be computed ({type(e).__name__}: {e})") from None
        logger.info(f"microgpt: exercise {ex.id}: {json.dumps(facts, sort_keys=True)}")
        return facts


class ExerciseSummaryDirective(SphinxDirective):
    """The reader's progress on every page (home page)."""

    def run(self):
        from ..exercises.catalog import PAGES

        pages = {page: [e.id for e in exercises] for page, exercises in PAGES.items()}
        node = exercise_summary(pages=pages)
        node += nodes.paragraph(text="Exercises: your progress is kept in this browser.")
        self.env.microgpt_exercise_docs = getattr(self.env, "microgpt_exercise_docs", set()) | {self.env.docname}
        return [node]


def attrs(values: dict) -> str:
    return " ".join(f'{k}="{html.escape(str(v))}"' for k, v in values.items())


def visit_exercise_html(self, node):
    facts = "" if node["facts"] is None else json.dumps(node["facts"], sort_keys=True, separators=(",", ":"))
    data = {"class": f"mg-exercise mg-exercise-{node['kind']}", "id": node["ids"][0], "data-exercise": node["id"],
            "data-exercise-kind": node["kind"], "data-exercise-number": node["number"],
            "data-exercise-live": "true" if node["live"] else "false", "aria-labelledby": f"{node['ids'][0]}-title"}
    if facts:
        data["data-exercise-facts"] = facts
    if node["scene"]:
        data["data-exercise-scene"] = node["scene"]
    self.body.append(f"<section {attrs(data)}>")
    node.children[0]["ids"] = [f"{node['ids'][0]}-title"]


def form_html(node, download: int) -> str:
    """The answer field, the three buttons and the result, after the question; `download`: the runtime's bytes,
    which the first Check fetches (said before it is pressed)."""
    field = f"{node['ids'][0]}-answer"
    label = f'<label for="{field}">{html.escape(node["label"])}</label>'
    if node["kind"] == "code":
        rows = max(node["starter"].count("\n") + 2, 6)
        keys = f"{field}-keys"
        area = attrs({"id": field, "rows": rows, "spellcheck": "false", "autocapitalize": "off",
                      "aria-describedby": keys})
        control = (f'<textarea {area} '
                   f'data-exercise-answer class="mg-exercise-editor">{html.escape(node["starter"])}</textarea>'
                   f'<p class="mg-exercise-keys" id="{keys}"><span class="mg-keys-keyboard">Shift+Enter checks; Tab '
                   "indents, Shift+Tab dedents; Escape leaves the editor.</span><span class=\"mg-keys-touch\">Enter "
                   "after a line ending in “:” indents the next line; the Indent and Dedent buttons under the code "
                   "shift the current line; Check checks it.</span></p>")
    elif node["kind"] == "experiment":
        options = "".join(f'<option value="{html.escape(c)}">{html.escape(c)}</option>' for c in node["choices"])
        control = (f'<select id="{field}" data-exercise-answer><option value="">Choose…</option>{options}'
                   "</select>")
    else:
        mode = "text" if node["label"] == "A letter" else "decimal"
        control = f'<input {attrs({"id": field, "type": "text", "inputmode": mode, "autocomplete": "off"})} ' \
                  "data-exercise-answer>"
    table = (node["facts"] or {}).get("table")
    if table:  # the numbers a scene question reads, for a reader without the scene
        head = "".join(f"<th scope=col>{html.escape(str(h))}</th>" for h in table["header"])
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in table["rows"])
        control += (f'<details class="mg-exercise-table"><summary>The scene\'s numbers, as a table</summary>'
                    f'<table><caption>{html.escape(table["caption"])}</caption><thead><tr>{head}</tr></thead>'
                    f"<tbody>{body}</tbody></table></details>")
    note = f"{node['ids'][0]}-download"
    return (f'<div class="mg-exercise-form">{label}{control}<div class="mg-exercise-buttons">'
            f'<button type="button" data-exercise-action="check" aria-describedby="{note}">Check</button>'
            '<button type="button" data-exercise-action="hint">Hint</button>'
            '<button type="button" data-exercise-action="solution">Show solution</button></div>'
            f'<p class="mg-exercise-download" id="{note}" data-exercise-download data-bytes="{download}">The first '
            f"Check loads the Python runtime that checks answers: a {download / 1e6:.1f} MB download the first time, "
            "kept by your browser for later Checks and pages.</p>"
            '<p class="mg-exercise-result" data-exercise-result data-result="" role="status" aria-live="polite">'
            "</p></div>")


def depart_exercise_html(self, node):
    self.body.append("</section>")


def visit_part_html(self, node):
    self.body.append(f'<div class="{" ".join(node["classes"])}" data-exercise-part="{node["role"]}" hidden>')


def depart_part_html(self, node):
    self.body.append("</div>")


def visit_summary_html(self, node):
    pages = json.dumps(node["pages"], separators=(",", ":"))
    here = self.builder.current_docname
    links = {page: self.builder.get_relative_uri(here, self.builder.config.microgpt_section_doc.format(id=page))
             for page in node["pages"]}
    from ..sections import by_id

    titles = {page: by_id(page).title for page in node["pages"]}
    self.body.append(f'<div class="mg-exercise-summary" data-exercise-summary="site" '
                     f'data-exercise-pages="{html.escape(pages)}" '
                     f'data-exercise-titles="{html.escape(json.dumps(titles, separators=(",", ":")))}" '
                     f'data-exercise-links="{html.escape(json.dumps(links, separators=(",", ":")))}">')


def depart_summary_html(self, node):
    self.body.append("</div>")


def insert_forms(app, doctree, docname):
    """After each question, its form (HTML only): raw HTML, so other builders leave it out."""
    if app.builder.format != "html":
        return
    from .live import runtime_manifest

    for node in doctree.findall(exercise):
        question = node.children[1]
        download = runtime_manifest(app)["total_bytes"]
        node.insert(node.index(question) + 1, nodes.raw("", form_html(node, download), format="html"))


def skip(self, node):
    raise nodes.SkipNode


def passthrough(self, node):
    pass


def add_page_assets(app, pagename, templatename, context, doctree):
    if pagename in getattr(app.env, "microgpt_exercise_docs", set()):
        app.add_js_file("exercises/exercises.js", type="module")
        app.add_css_file("exercises/exercises.css")


def setup_exercises(app):
    others = {b: (passthrough, passthrough) for b in ("latex", "text", "man", "texinfo")}
    app.add_node(exercise, html=(visit_exercise_html, depart_exercise_html), **others)
    app.add_node(exercise_part, html=(visit_part_html, depart_part_html), **others)
    app.add_node(exercise_summary, html=(visit_summary_html, depart_summary_html), **others)
    app.add_directive("exercise", ExerciseDirective)
    app.add_directive("exercise-summary", ExerciseSummaryDirective)
    app.connect("doctree-resolved", insert_forms)
    app.connect("html-page-context", add_page_assets)
    track_docs(app, "microgpt_exercise_docs")
