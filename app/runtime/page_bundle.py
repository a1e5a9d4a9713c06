"""One resource bundle per kind of page, not one per session.

Rendering a session's page asks Panel for its *bundle*: the script and stylesheet URLs
and inline snippets of every model the page uses. Panel works it out again for every
page (every model class's ``__javascript__``/``__css__``, Panel's config, the
extensions): 5 ms of a session's 55 ms of server CPU with 300 sessions live (py-spy,
bench.sessionprofile), and it comes out the same for every board page. Here the
bundle is kept under a key of everything it is made from, so a page like one already
rendered reuses it; a page with other model types, another theme's CSS, another
``--prefix`` or extension gets a bundle of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any

#: Bundles kept; cleared when full (pages of that many kinds are not expected).
MAX_KINDS = 64


def _frozen(value: Any) -> Hashable:
    """``value`` as something hashable: lists and tuples as tuples, dicts as sorted
    item tuples, anything else as its ``repr`` unless it hashes already."""
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), _frozen(v)) for k, v in value.items()))
    if isinstance(value, (set, frozenset)):
        return tuple(sorted(repr(v) for v in value))
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def page_key(model_types: Iterable[type], settings: dict[str, Any]) -> Hashable:
    """What a page's bundle depends on: the model classes it renders and the settings
    (resources, Panel config, extensions) read while bundling, by name."""
    names = sorted(f"{t.__module__}.{t.__qualname__}" for t in set(model_types))
    return (tuple(names), _frozen(settings))


class BundleCache:
    """Bundles by :func:`page_key`; ``make()`` builds one the first time a key is asked."""

    def __init__(self, max_kinds: int = MAX_KINDS):
        self.max_kinds = max_kinds
        self._kept: dict[Hashable, Any] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        kept = self._kept.get(key)
        if kept is not None:
            self.hits += 1
            return kept
        self.misses += 1
        made = make()
        if len(self._kept) >= self.max_kinds:
            self._kept.clear()
        self._kept[key] = made
        return made


def bundle_settings(resources, doc) -> dict[str, Any]:
    """Everything outside the models that Panel's ``bundle_resources`` reads: the
    resources (mode, URLs, components), Panel's config (CSS and JS files, raw and
    global CSS, design, theme, loading spinner), the extensions loaded and named by
    the document, the server's path prefix, and how many model classes exist (a
    class defined later may add scripts)."""
    from bokeh.model import Model
    from panel.config import config, panel_extension
    from panel.io.state import state

    return {
        "mode": resources.mode, "root_url": resources.root_url,
        "absolute": getattr(resources, "absolute", None),
        "minified": getattr(resources, "minified", None),
        "components": list(resources.components),
        "rel_path": state.rel_path,
        "doc_extensions": list(state._extensions_.get(doc, ())) if doc is not None else [],
        "loaded": sorted(panel_extension._loaded_extensions),
        "raw_css": list(config.raw_css), "global_css": list(config.global_css),
        "css_files": list(config.css_files), "js_files": dict(config.js_files),
        "js_modules": dict(config.js_modules), "design": repr(config.design),
        "theme": config.theme, "spinner": (config.global_loading_spinner,
                                           config.loading_spinner, config.loading_color,
                                           config.loading_max_height),
        "model_classes": len(Model.model_class_reverse_map),
    }
