"""Bokeh's auth module for Photon (``BOKEH_AUTH_MODULE``, set by :mod:`app.access.serving`).

Bokeh loads this file by its path and reads the names below; they all come from
:mod:`app.access.signin`, so Bokeh's handlers (the board, its socket) and Photon's
routes check the same identity.
"""

from app.access import signin

get_user = signin.get_user
login_url = signin.LOGIN_PATH
LoginHandler = signin.login_handler()
logout_url = signin.LOGOUT_PATH
LogoutHandler = signin.LogoutHandler
