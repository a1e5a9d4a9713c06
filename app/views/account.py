"""Who is signed in, on the board: their name and a "Sign out" link (nothing when
sign-in is off, so a board without it builds no extra object)."""

from __future__ import annotations

from html import escape

import panel as pn

from app.access.identity import LOGOUT_PATH, policy

CSS = """
:host{display:block}
.photon-account{display:flex;justify-content:flex-end;gap:.8em;font-size:.85em;margin:0 .2em}
.photon-account a{color:inherit}
"""


def session_user() -> str | None:
    """The signed-in user of the session being built (None with sign-in off): the name
    its fast-lane token is bound to."""
    return pn.state.user if policy().on else None


def account_html(user: str, logout_url: str = "." + LOGOUT_PATH) -> str:
    return (f'<nav class="photon-account" aria-label="Account">'
            f'<span>Signed in as <strong class="photon-user">{escape(user)}</strong></span>'
            f'<a href="{escape(logout_url)}" class="photon-signout">Sign out</a></nav>')


def account_bar() -> list[pn.viewable.Viewable]:
    """The bar for this session's user, as a list to splice into a layout ([] if none)."""
    user = session_user()
    if not user:
        return []
    # ./logout from /app is /logout, also under a --prefix (as ../health is /health).
    return [pn.pane.HTML(account_html(user, "." + LOGOUT_PATH), stylesheets=[CSS],
                         sizing_mode="stretch_width", margin=0)]
