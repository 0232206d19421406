"""What the page's Web Worker calls under Pyodide: a function's name and JSON arguments in, JSON out.

The worker is glue: it hands `call("live.train", "[10]")` here and posts back what comes out. A module offers
functions to the page in its `API` table; a PageError comes back as a message naming the page's field, any
other exception as a short traceback.
"""

import importlib
import json
import traceback

from .form import PageError


def call(name: str, args_json: str) -> str:
    """{"result": ...} or {"error": {"field": ..., "message": ...}} as JSON."""
    module, _, function = name.partition(".")
    try:
        api = importlib.import_module(f"microgpt.{module}").API
        if function not in api:
            raise PageError("", f"the page asked for {name!r}, which microgpt.{module} does not offer")
        return json.dumps({"result": api[function](*json.loads(args_json))}, allow_nan=False)
    except PageError as e:
        return json.dumps({"error": {"field": e.field, "message": str(e)}})
    except Exception as e:  # a bug, not the reader's input: say where, briefly
        frames = traceback.format_exception(e, limit=-3)
        return json.dumps({"error": {"field": "", "message": f"{type(e).__name__}: {e}", "traceback": "".join(frames)}})
