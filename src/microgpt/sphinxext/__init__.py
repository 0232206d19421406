"""Sphinx extension for the microgpt-illustrated site: the original's lines, the section map, citations, scenes,
runnable cells, notebooks, glossary links, exercises."""

from .. import __version__


def setup(app):
    from .cells import setup_cells
    from .cite import setup_cite
    from .editor import setup_editor
    from .exercises import setup_exercises
    from .figures import setup_figures
    from .glossary import setup_glossary
    from .live import setup_live
    from .notebooks import setup_notebooks
    from .original import setup_original
    from .scene import setup_scene
    from .shared import setup_shared
    from .streams import setup_streams

    setup_shared(app)
    setup_streams(app)
    setup_original(app)
    setup_cite(app)
    setup_figures(app)
    setup_glossary(app)
    setup_notebooks(app)
    setup_scene(app)
    setup_live(app)
    setup_cells(app)
    setup_exercises(app)
    setup_editor(app)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
