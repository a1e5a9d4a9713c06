"""Run one of the board's browser modules under node, for the tests of its pure parts."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

VIEWS = Path(__file__).resolve().parents[1] / "app" / "views"

#: Imports the module (as ``m``) as it ships, and reads ``input`` (JSON) from stdin.
PRELUDE = """
const src = await (await import("node:fs/promises")).readFile(process.argv[1], "utf8")
const m = await import("data:text/javascript;base64," + Buffer.from(src).toString("base64"))
const input = JSON.parse((await import("node:fs")).readFileSync(0, "utf8") || "null")
"""


def run_module(module: str | Path, program: str, data: object = None) -> object:
    """Run ``program`` after importing ``module`` (a name in app/views, or a path) as
    ``m``, with ``data`` as ``input``; returns the JSON it printed last."""
    node = shutil.which("node")
    assert node, "node is needed (apt-get install nodejs; .ci/run installs it)"
    path = module if isinstance(module, Path) else VIEWS / module
    out = subprocess.run([node, "--input-type=module", "-e", PRELUDE + program, "--",
                          str(path)], input=json.dumps(data), capture_output=True, text=True,
                         timeout=30, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])
