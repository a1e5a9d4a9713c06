"""One resource bundle per kind of page (app/runtime/page_bundle.py)."""

from __future__ import annotations

from app.runtime import page_bundle


class A:
    pass


class B:
    pass


def test_key_is_the_model_classes_and_settings_whatever_the_order_and_count():
    settings = {"mode": "server", "global_css": [":root{}"], "js_files": {"x": "y.js"}}
    assert (page_bundle.page_key([A, B, A], settings)
            == page_bundle.page_key([B, A], dict(reversed(list(settings.items())))))


def test_key_changes_with_a_model_class_or_any_setting():
    base = {"mode": "server", "global_css": ["a"], "rel_path": ""}
    key = page_bundle.page_key([A], base)
    assert page_bundle.page_key([A, B], base) != key
    assert page_bundle.page_key([A], {**base, "global_css": ["b"]}) != key
    assert page_bundle.page_key([A], {**base, "rel_path": "/prefix"}) != key
    assert page_bundle.page_key([A], {**base, "extra": None}) != key


def test_key_takes_unhashable_settings():
    key = page_bundle.page_key([A], {"design": object, "files": {"a": ["b", {"c"}]},
                                     "odd": bytearray(b"x")})
    hash(key)


def test_cache_makes_once_per_key_and_clears_when_full():
    cache = page_bundle.BundleCache(max_kinds=2)
    made = []

    def make(name):
        return lambda: made.append(name) or name

    assert cache.get("k1", make("one")) == "one"
    assert cache.get("k1", make("again")) == "one"
    assert cache.get("k2", make("two")) == "two"
    assert cache.get("k3", make("three")) == "three"  # full: cleared, then kept
    assert cache.get("k1", make("one'")) == "one'"
    assert made == ["one", "two", "three", "one'"]
    assert (cache.hits, cache.misses) == (1, 4)
