"""Price alerts on the page: parsed where they enter (the URL's ``?alerts=`` and the
page's edits) and evaluated in the browser, which has every price (``alerts.js``).

The syntax and the firing rule live one floor down, in :mod:`app.alerts.rules`, so the
page and the server's alert engine share one implementation; this module names them
for the views.
"""

from app.alerts.rules import (
    MAX_ALERTS,
    MAX_ENTRY_CHARS,
    MAX_NAMED,
    OPS,
    Alert,
    AlertList,
    holds,
    parse_alert,
    parse_alerts,
    step,
)

__all__ = ["MAX_ALERTS", "MAX_ENTRY_CHARS", "MAX_NAMED", "OPS", "Alert", "AlertList", "holds",
           "parse_alert", "parse_alerts", "step"]
