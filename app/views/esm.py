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

    @classmethod
    def _render_esm(cls, compiled=True, server: bool = False):
        if config.autoreload:
            return super()._render_esm(compiled, server=server)
        return _rendered(cls, compiled, server)


@cache
def _rendered(cls: type[JSComponent], compiled, server: bool) -> str:
    return super(SharedSourceComponent, cls)._render_esm(compiled, server=server)


def classic_script(*paths: Path) -> str:
    """The modules at ``paths`` as the body of one classic script: their ``export``
    keywords dropped, so their functions are plain declarations in one scope. For
    scripts that run where modules cannot be loaded (another site's page, a notebook's
    output); the files stay modules, which the tests import under node."""
    return "\n".join(re.sub(r"^export ", "", p.read_text(), flags=re.M) for p in paths)
