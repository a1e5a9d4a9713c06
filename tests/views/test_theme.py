"""Theme choice from ``?theme=`` (app.views.theme)."""

import pytest

from app.views.theme import page_css, theme_from_arg


@pytest.mark.parametrize(("raw", "theme"), [
    (None, "auto"), ("", "auto"), ("dark", "dark"), (" Light ", "light"), ("DARK", "dark"),
    ("auto", "auto"), ("neon", "auto"), ("<script>", "auto"),
])
def test_theme_from_arg(raw, theme):
    assert theme_from_arg(raw) == theme


@pytest.mark.parametrize(("theme", "scheme"), [
    ("auto", "color-scheme: light dark;"), ("light", "color-scheme: light;"),
    ("dark", "color-scheme: dark;"), ("neon", "color-scheme: light dark;"),
])
def test_page_css_sets_the_color_scheme_the_stylesheets_follow(theme, scheme):
    assert f":root {{ {scheme} }}" in page_css(theme)
