"""notebooks/replay.ipynb runs top to bottom headless: the replayed board ends on the
recorded prices and volumes."""

from __future__ import annotations

import json

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

from tests.support import ROOT

NOTEBOOK = ROOT / "notebooks" / "replay.ipynb"

PROBE = """\
import json
print(json.dumps({"same": {s: bool(v) for s, v in comparison["same"].items()},
                  "trades": int(recorded["trades"].sum()),
                  "refcounts": board.hub.refcounts()}))
"""


def test_committed_notebook_has_outputs_cleared():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for c in nb.cells:
        if c.cell_type == "code":
            assert c.outputs == [] and c.execution_count is None, c.get("id")


def test_the_replayed_board_ends_on_what_was_recorded():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells.append(new_code_cell(PROBE, id="test-probe"))
    NotebookClient(nb, kernel_name="python3", timeout=120,
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    (out,) = [o for o in nb.cells[-1].outputs if o.output_type == "stream"]
    probe = json.loads(out.text)
    assert probe["trades"] > 1000
    assert probe["same"] and all(probe["same"].values()), probe["same"]
    assert probe["refcounts"] == {}
