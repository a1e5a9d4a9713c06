"""Photon's JS components, with their module source read once per process.

Panel reads a component's ``_esm`` file and dedents it again for every session that
renders it: a new copy of the same tens of kilobytes each time, kept as long as the
session lives. The source does not change while the server runs (Panel's autoreload
is the exception, and then Panel's own reading is kept), so every session shares one
string.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import param
from panel.config import config
from panel.custom import JSComponent
from panel.util import classproperty


class SharedSourceComponent(JSComponent):
    """A :class:`~panel.custom.JSComponent` whose rendered module source is cached, and
    whose instances share their class's ``Parameter`` objects.

    param gives each instance a copy of a ``Parameter`` the first time the instance's
    ``param[name]`` is read, and Panel reads every one of a component's forty-odd
    parameters while rendering it: 80 copies per page, 3 ms of a session's start
    (cProfile of a built page). Photon never changes a parameter's settings (bounds,
    precedence, ...) on one instance, so they need no copies; values and watchers
    are per instance either way.
    """

    def __init__(self, **params):
        # on the class, for every subclass (param's metaclass sets up a class's private
        # state after __init_subclass__ has run, so a class hook would be overwritten)
        param.parameterized.no_instance_params(type(self))
        super().__init__(**params)

    @classproperty
    def _bundle_path(cls):
        """Where a compiled bundle of the component is (None: nowhere, Photon's case).
        Panel looks on disk for every session it renders (a stat per candidate file,
        about 1 ms a component); the answer only changes under autoreload."""
        if config.autoreload:
            return super()._bundle_path
        return _bundle_path_of(cls)

    @property
    def _synced_params(self) -> list[str]:
        """The parameters kept in step with the model: Panel computes the list again
        for each parameter it syncs (forty-odd times a component), though it depends
        only on the class."""
        names = _SYNCED.get(type(self))
        if names is None:
            names = _SYNCED[type(self)] = tuple(super()._synced_params)
        return list(names)

    @classmethod
    def _render_esm(cls, compiled=True, server: bool = False):
        if config.autoreload:
            return super()._render_esm(compiled, server=server)
        return _rendered(cls, compiled, server)


@cache
def _rendered(cls: type[JSComponent], compiled, server: bool) -> str:
    return super(SharedSourceComponent, cls)._render_esm(compiled, server=server)


@cache
def _bundle_path_of(cls: type[JSComponent]):
    return super(SharedSourceComponent, cls)._bundle_path


#: Each component class's synced parameters (SharedSourceComponent._synced_params).
_SYNCED: dict[type, tuple[str, ...]] = {}


def classic_script(*paths: Path) -> str:
    """The modules at ``paths`` as the body of one classic script: their ``export``
    keywords dropped, so their functions are plain declarations in one scope. For
    scripts that run where modules cannot be loaded (another site's page, a notebook's
    output); the files stay modules, which the tests import under node."""
    return "\n".join(re.sub(r"^export ", "", p.read_text(), flags=re.M) for p in paths)
