"""bench/ in folders by kind: the names from before the folders still work, as imports
(the same module object, not a second copy) and as ``python -m`` commands."""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys

import pytest

import bench
from tests.support import ROOT

#: Moved modules that import without bench/requirements.txt (which CI does not install).
LIGHT = ["viewer", "tables", "summary", "faults", "fault_deployment", "refhub", "gcpause"]


@pytest.mark.parametrize("old", sorted(bench.MOVED))
def test_each_old_name_finds_the_moved_file(old):
    new = ROOT / "bench" / bench.MOVED[old] / f"{old}.py"
    assert new.is_file()
    assert not (ROOT / "bench" / f"{old}.py").exists()  # moved, not copied
    assert importlib.util.find_spec(f"bench.{old}").origin == str(new)


@pytest.mark.parametrize("old", LIGHT)
def test_an_old_name_is_the_moved_module_itself(old):
    new = f"bench.{bench.MOVED[old]}.{old}"
    assert importlib.import_module(f"bench.{old}") is importlib.import_module(new)


def test_from_bench_import_an_old_name():
    from bench import viewer
    from bench.reports import viewer as moved

    assert viewer is moved


def test_names_that_did_not_move_are_left_alone():
    assert bench.new_name("bench.run") is None and bench.new_name("app.faults") is None
    assert bench.new_name("bench.faults") == "bench.drills.faults"


@pytest.mark.parametrize("old", ["faults", "pageload", "acceptance"])
def test_an_old_command_still_runs(old):
    done = subprocess.run([sys.executable, "-m", f"bench.{old}", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage:")
