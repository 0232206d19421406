"""The notebooks the site offers: one per page that runs code, plain Markdown, and they run where a reader runs them."""

import os
import re
import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import ROOT
from microgpt.sections import SECTIONS

MYST = re.compile(r"^\s*(```+|:::+)\s*\{|\{(ref|doc|glue|eval|numref|term)\}`", re.M)


def offered(site):
    return sorted(p.relative_to(site).with_suffix("").as_posix() for p in site.rglob("*.ipynb"))


def test_pages_with_code_and_only_they_offer_a_notebook(site):
    with_code = sorted(p.relative_to(site).with_suffix("").as_posix() for p in site.rglob("*.html")
                       if 'class="cell docutils container"' in p.read_text(encoding="utf-8"))
    assert {f"sections/{s.id}" for s in SECTIONS} <= set(with_code)
    assert offered(site) == with_code
    for page in site.rglob("*.html"):
        name = page.relative_to(site).with_suffix("").as_posix()
        link = f'href="{page.stem}.ipynb"' in page.read_text(encoding="utf-8")
        assert link == (name in with_code), name


def test_notebooks_are_plain_markdown_with_the_original_and_the_outputs(site):
    original = (ROOT / "reference" / "microgpt.py").read_text(encoding="utf-8").splitlines()
    for name in offered(site):
        nb = nbformat.read(site / f"{name}.ipynb", as_version=4)
        nbformat.validate(nb)
        first = nb.cells[0]
        assert first.cell_type == "markdown" and "pip install" in first.source, name
        markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert not MYST.search(markdown), (name, MYST.search(markdown).group(0))
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code and all(c.outputs for c in code), name  # every cell of this site prints something
        assert "../" not in "".join(c.source for c in code), name  # nothing that exists only in a clone
        if name.startswith("sections/"):
            section = next(s for s in SECTIONS if name == f"sections/{s.id}")
            n = section.first
            assert re.search(rf"^ *{n}  {re.escape(original[n - 1])}$", markdown, re.M), name  # numbered, verbatim
    scenes = nbformat.read(site / "sections" / "training.ipynb", as_version=4)
    assert any(a.startswith("scene-training") for c in scenes.cells for a in c.get("attachments", {}))


@pytest.mark.slow
def test_every_notebook_runs_outside_the_clone_and_reproduces_its_outputs(site, names_path, tmp_path, monkeypatch):
    monkeypatch.setenv("MICROGPT_DATA", str(names_path))  # the kernel inherits it; else the package downloads it
    for name in offered(site):
        folder = tmp_path / name.replace("/", "-")
        folder.mkdir()
        shutil.copyfile(site / f"{name}.ipynb", folder / "page.ipynb")
        built = nbformat.read(folder / "page.ipynb", as_version=4)
        ran = nbformat.read(folder / "page.ipynb", as_version=4)
        monkeypatch.chdir(folder)
        NotebookClient(ran, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
        for before, after in zip(built.cells, ran.cells):
            if before.cell_type == "code":
                assert text(after.outputs) == text(before.outputs), (name, before.source[:80])
        assert os.listdir(folder) == ["page.ipynb"]  # the cells wrote nothing beside it


def text(outputs) -> str:
    parts = []
    for o in outputs:
        if o.output_type == "stream":
            parts.append(o.text)
        elif o.output_type in ("execute_result", "display_data"):
            parts.append(o.data.get("text/plain", ""))
        elif o.output_type == "error":
            parts.append(f"{o.ename}: {o.evalue}")
    return "".join(parts)


def exercise_cells(site) -> dict:
    """Exercise id -> its notebook cell, over every notebook the site offers."""
    cells = {}
    for name in offered(site):
        for cell in nbformat.read(site / f"{name}.ipynb", as_version=4).cells:
            if "microgpt" in cell.metadata:
                cells[cell.metadata["microgpt"]["exercise"]] = cell
    return cells


def test_every_exercise_is_a_notebook_cell_whose_check_is_a_plain_call(site):
    from microgpt.exercises import EXERCISES

    cells = exercise_cells(site)
    assert set(cells) == set(EXERCISES)
    for exercise_id, cell in cells.items():
        assert f'exercises.check("{exercise_id}", ' in cell.source
        assert text(cell.outputs).startswith(("Error: ", "Wrong: "))  # the blank, as built


def test_exercise_cells_run_outside_the_clone_blanks_fail_and_solutions_pass(site, names_path, tmp_path, monkeypatch):
    """In a kernel started in an empty folder: each blank prints its message; each worked solution is right."""
    from test_exercises import solution_of

    from microgpt.exercises import Context, get

    monkeypatch.setenv("MICROGPT_DATA", str(names_path))
    monkeypatch.chdir(tmp_path)
    cells = exercise_cells(site)
    context = Context()
    runnable, solved = [], []
    for exercise_id, cell in sorted(cells.items()):
        ex = get(exercise_id)
        runnable.append(nbformat.v4.new_code_cell(cell.source))
        if ex.kind == "experiment":  # a solution needs the run's outcome: tests/test_exercises.py checks those
            continue
        answer = solution_of(ex, ex.facts(context))
        if ex.kind == "code":
            source = cell.source.replace(ex.starter, answer)
        else:
            source = cell.source.replace("answer = None", f"answer = {answer!r}")
        solved.append((exercise_id, nbformat.v4.new_code_cell(source)))
    nb = nbformat.v4.new_notebook(cells=runnable + [c for _, c in solved])
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    for (exercise_id, built), ran in zip(sorted(cells.items()), nb.cells):
        assert text(ran.outputs) == text(built.outputs), exercise_id  # the blank fails with its message
    for (exercise_id, _), ran in zip(solved, nb.cells[len(runnable):]):
        assert text(ran.outputs).startswith("Right: "), (exercise_id, text(ran.outputs))
    assert os.listdir(tmp_path) == []
