"""Who may come in, and how much each client may take.

Sign-in (``PHOTON_AUTH``: none, basic, oauth), the one identity check every route Photon
adds runs before it answers, tokens for tools, limits per client and the security headers.
Below the lanes, history and embeds (which all call it); above config and runtime.
Knows Tornado, not Panel's page: Panel's own handlers are guarded by Panel's sign-in.
"""
