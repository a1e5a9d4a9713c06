"""Photon capacity benchmark; see bench/README.md.

The modules are in folders by kind (``clients``, ``servers``, ``drills``, ``probes``,
``reports``, ``scenarios``). Their names from before the folders still work, as
commands (``python -m bench.faults``) and imports (``from bench.load_stats import
Session``): :data:`MOVED` maps each to where it is now, and the old name is the same
module object as the new one (imported once, one set of globals).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from importlib.machinery import ModuleSpec

#: Old top-level module name -> the folder it moved to.
MOVED = {
    **dict.fromkeys(("load", "load_stats", "photon_client", "fastlane_client",
                     "bokeh_protocol", "ref_clients", "slow_client", "workers", "browser"),
                    "clients"),
    **dict.fromkeys(("ref_tornado", "ref_socketio", "refhub"), "servers"),
    **dict.fromkeys(("faults", "fault_deployment", "faultviewer", "churn", "soak"), "drills"),
    **dict.fromkeys(("pageload", "embeds"), "probes"),
    **dict.fromkeys(("report", "report_acceptance", "tables", "summary", "verdicts",
                     "latency", "profile", "viewer"), "reports"),
    **dict.fromkeys(("acceptance", "relay", "history", "gcpause"), "scenarios"),
}


def new_name(old: str) -> str | None:
    """``bench.faults`` -> ``bench.drills.faults``; None for a name that did not move."""
    parent, _, leaf = old.rpartition(".")
    return f"bench.{MOVED[leaf]}.{leaf}" if parent == "bench" and leaf in MOVED else None


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old name and loads it as the module under the new one."""

    def find_spec(self, fullname, path=None, target=None):
        new = new_name(fullname)
        if new is None:
            return None
        found = importlib.util.find_spec(new)
        return ModuleSpec(fullname, self, origin=found.origin if found else None)

    def create_module(self, spec):
        return importlib.import_module(new_name(spec.name))

    def exec_module(self, module):
        """Nothing: the module ran once, under its new name."""

    def get_code(self, fullname):
        """For ``python -m bench.<old name>``: the new module's code, run as ``__main__``."""
        new = new_name(fullname)
        return importlib.util.find_spec(new).loader.get_code(new)


if not any(isinstance(f, _MovedModules) for f in sys.meta_path):
    sys.meta_path.append(_MovedModules())
