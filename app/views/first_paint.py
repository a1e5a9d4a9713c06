"""The board's prices in the page's HTML, shown before BokehJS has started.

A Bokeh page shows nothing until its scripts (BokehJS, Panel: about 600 kB) have
loaded and run, the browser has pulled the document over the WebSocket and built its
views: half a second of a browser's main thread even with every script cached. The
server already knows the prices when it renders the page, so it writes them into
the HTML as a plain table (the session's symbols, last prices, change and
sparklines, as of the request) and moves the scripts after it; the browser paints
the table as soon as the HTML arrives. The live board removes it when it has drawn
its own rows (board.js), and goes on updating from there.

Everything in it comes from the hub's own rows (formatted by :func:`app.quotes.quote_row`)
and is escaped; nothing from the request is written into it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from html import escape
from typing import TYPE_CHECKING

import jinja2
import panel as pn

from app.quotes import Quote, quote_row

if TYPE_CHECKING:
    from bokeh.document import Document

    from app.views.dashboard import Dashboard

#: Element id the board removes once its own rows are drawn (board.js).
ELEMENT_ID = "photon-first-paint"

#: Panel's page template with the first paint on top of the body and the scripts
#: after it, deferred: parser-blocking scripts in <head> would hold the first paint
#: back until they had all run. Panel's one inline snippet (``Bokeh.set_log_level``)
#: becomes a module script, which runs in order with the deferred ones, after BokehJS,
#: as does the page's own script (app/views/page.py) after it;
#: Bokeh's embed script waits for DOMContentLoaded, which comes after them all. The
#: replaced strings are Panel's ``js_resources.html``; tests/views/test_first_paint.py
#: fails if they change. Compiled once (:data:`PAGE`): Panel compiles a template given
#: as text again for every page.
TEMPLATE = """{% extends base %}
{% block postamble %}<meta name="viewport" content="width=device-width, initial-scale=1">
{% endblock %}
{% block js_resources %}{% endblock %}
{% block contents %}
{{ first_paint | default("", true) }}
{{ bokeh_js | replace('<script type="text/javascript" src=', '<script defer src=')
            | replace('<script type="text/javascript">', '<script type="module">')
   if bokeh_js }}
{{ page_script | default("", true) }}
{{ super() }}
{% endblock %}
"""

PAGE = jinja2.Environment(autoescape=False).from_string(TEMPLATE)
"""The page template: ``base`` is Panel's, which Panel passes in when it renders."""

#: Laid over the page where the live board will be, in its colours and sizes, so the
#: swap does not move anything; it covers the page's roots while BokehJS draws them.
#: Should the board never come (a script failed), it hides itself after 30 s rather
#: than show prices "as of page load" over the page for good.
_STYLE = f"""<style>
@keyframes photon-first-paint-expire {{ to {{ visibility: hidden; }} }}
#{ELEMENT_ID} {{ animation: photon-first-paint-expire 1ms linear 30s forwards; }}
#{ELEMENT_ID} {{ position: absolute; inset: 0 0 auto 0; min-height: 100vh; z-index: 10;
  background: light-dark(#ffffff, #0f1115); color: light-dark(#111827, #e5e7eb);
  font-family: ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  font-variant-numeric: tabular-nums; }}
#{ELEMENT_ID} {{ box-sizing: border-box; padding: 0 clamp(12px, 3vw, 32px); }}
#{ELEMENT_ID} > div {{ max-width: 1100px; margin-inline: auto; }}
#{ELEMENT_ID} .fp-title {{ margin: 14px 0 10px; font-size: 26px; line-height: 32px;
  font-weight: 700; }}
#{ELEMENT_ID} .fp-title small {{ color: light-dark(#4b5563, #9ca3af); font-weight: 500;
  font-size: 0.8em; }}
#{ELEMENT_ID} .fp-status {{ margin: 0 0 62px; padding: 6px 12px; border-radius: 6px;
  font-size: 14px; line-height: 20px; background: light-dark(#f3f4f6, #1a1f29); }}
#{ELEMENT_ID} table {{ width: 100%; border-collapse: collapse; table-layout: fixed; }}
#{ELEMENT_ID} th, #{ELEMENT_ID} td {{ text-align: left; padding: 8px 12px; height: 30px;
  white-space: nowrap; overflow: hidden;
  border-bottom: 1px solid light-dark(#e5e7eb, #2d3340); }}
#{ELEMENT_ID} thead th {{ font-size: 12px; text-transform: uppercase; letter-spacing: .04em;
  font-weight: 400; height: 23px; color: light-dark(#4b5563, #9ca3af); }}
#{ELEMENT_ID} tbody th {{ font-size: 13px; font-weight: 700; }}
#{ELEMENT_ID} .px {{ font-size: 18px; font-weight: 700; }}
#{ELEMENT_ID} .vol {{ font-size: 13px; color: light-dark(#4b5563, #9ca3af); }}
#{ELEMENT_ID} .chg {{ font-size: 13px; }}
#{ELEMENT_ID} .up {{ color: light-dark(#166534, #4ade80); }}
#{ELEMENT_ID} .down {{ color: light-dark(#b91c1c, #fca5a5); }}
#{ELEMENT_ID} svg {{ width: 120px; height: 28px; display: block; }}
#{ELEMENT_ID} polyline {{ fill: none; stroke: currentColor; stroke-width: 1.5; }}
@media (max-width: 640px) {{  /* a phone: symbol, price and change, readable */
  #{ELEMENT_ID} table {{ table-layout: auto; }}
  #{ELEMENT_ID} col {{ width: auto !important; }}
  #{ELEMENT_ID} th:nth-child(n+4), #{ELEMENT_ID} td:nth-child(n+4) {{ display: none; }}
  #{ELEMENT_ID} th, #{ELEMENT_ID} td {{ padding: 8px; }}
}}
</style>"""

SPARK_W, SPARK_H = 120, 28

#: The board's columns and their share of its width (%), so each starts where the live
#: board's will (board.css's grid at its 1,100 px). "Updated" is the viewer's local
#: time, which the server does not know, and "Alerts" needs the live board: both empty.
COLUMNS = {"Symbol": 19.2, "Last": 15.3, "Change": 20.4, "Volume": 11.5, "Updated": 12.7,
           "Trend": 12.9, "Alerts": 8.0}


def spark_slots(points: Sequence[Sequence[float]]) -> list[float]:
    """Each point's place along the line in minutes, as spark.js's ``sparkSlots``: every
    minute the same width (a closed market's night takes no room), a minute's points
    spread evenly across it."""
    xs: list[float] = []
    slot, start = -1, 0
    for i in range(len(points) + 1):
        new_minute = (i == len(points) or i == 0
                      or int(points[i][0] // 60) != int(points[i - 1][0] // 60))
        if new_minute and i > start:
            count = i - start
            xs.extend(slot + (k + 1) / count for k in range(count))
            start = i
        if new_minute and i < len(points):
            slot += 1
    return xs


#: The newest polyline drawn per symbol, with the points it was drawn from (their
#: count, first and last): sessions that open within one hub cycle share their symbols'
#: lines. Only the newest: the points move on with every cycle, so an older line is
#: never asked for again (keeping them was up to 2,048 lines, 3-5 MB, for nothing).
#: Bounded; cleared when full (an open universe with more symbols than this).
_LINES: dict[str, tuple[tuple, str]] = {}
_LINES_MAX = 2048


def cached_spark_coords(symbol: str, points: Sequence[Sequence[float]]) -> str:
    """:func:`spark_coords`, computed once per symbol and set of points: 1,000 viewers
    opening a board in a burst draw each line once, not 1,000 times."""
    if len(points) < 2:
        return ""
    key = (len(points), tuple(points[0]), tuple(points[-1]))
    kept = _LINES.get(symbol)
    if kept is not None and kept[0] == key:
        return kept[1]
    if kept is None and len(_LINES) >= _LINES_MAX:
        _LINES.clear()
    line = spark_coords(points)
    _LINES[symbol] = (key, line)
    return line


def spark_coords(points: Sequence[Sequence[float]]) -> str:
    """The SVG polyline ``points`` of a sparkline, drawn as board.js draws it."""
    if len(points) < 2:
        return ""
    prices = [p[1] for p in points]
    lo, hi = min(prices), max(prices)
    span = (hi - lo) or 1.0
    xs = spark_slots(points)
    x0, dx = xs[0], (xs[-1] - xs[0]) or 1.0
    return " ".join(f"{(x - x0) / dx * SPARK_W:.1f},"
                    f"{SPARK_H - 2 - (p - lo) / span * (SPARK_H - 4):.1f}"
                    for x, p in zip(xs, prices, strict=True))


def with_latest(rows: Sequence[dict], latest: Callable[[str], Quote | None]) -> list[dict]:
    """``rows`` with each row that has no price yet filled from ``latest(symbol)``: the
    hub's newest quote, which for a symbol just watched holds its reference price
    before the next cycle publishes it (the first viewer of a symbol sees it too)."""
    out = []
    for r in rows:
        q = latest(r["symbol"]) if r.get("last") is None else None
        out.append({**r, **quote_row(q)} if q is not None and q.last is not None else r)
    return out


def _pct(text: object) -> float | None:
    """The percentage in "+1.23 (+0.82%)", as board_ui.js's ``parsePct`` reads it."""
    m = re.search(r"\(([-+]?[\d,.]+)%\)", str(text or ""))
    return float(m.group(1).replace(",", "")) if m else None


def _volume(text: object) -> float | None:
    """"12.3K" as a number, as board_ui.js's ``parseVolume`` reads it."""
    m = re.fullmatch(r"([\d.]+)([KMB]?)", str(text or "").strip())
    return float(m.group(1)) * {"": 1, "K": 1e3, "M": 1e6, "B": 1e9}[m.group(2)] if m else None


def sorted_rows(rows: Sequence[dict], sort: str) -> list[dict]:
    """``rows`` in the order the board shows for ``sort`` (``-change``, ``volume``...,
    see app/views/urlstate.py), as board_ui.js's ``orderRows`` orders them: by the
    numbers the rows show, unknown ones last either way, ties by symbol."""
    key = sort.lstrip("-")
    value = {"symbol": lambda r: r["symbol"], "last": lambda r: r.get("last"),
             "change": lambda r: _pct(r.get("change")),
             "volume": lambda r: _volume(r.get("volume"))}.get(key)
    if value is None:
        return list(rows)
    known = [r for r in rows if value(r) is not None]
    unknown = sorted((r for r in rows if value(r) is None), key=lambda r: r["symbol"])
    known.sort(key=lambda r: r["symbol"])  # ties by symbol, whichever the direction
    known.sort(key=value, reverse=sort.startswith("-"))
    return known + unknown


def first_paint_html(rows: Sequence[dict], title: str = "Photon",
                     subtitle: str = "live market board", feed: str = "") -> str:
    """The rows (board row dicts, with ``points``) as a static table under the page's
    title, or "" for no rows. ``feed`` says how the feed was at the request (e.g.
    "Mock · live"): prices of a stale feed are not shown as if they were fresh."""
    if not rows:
        return ""
    body = []
    for r in rows:
        trend = "up" if r.get("trend", 0) > 0 else "down" if r.get("trend", 0) < 0 else ""
        arrow = {"up": "▲ ", "down": "▼ "}.get(trend, "")
        price = str(r.get("price") or "—")
        # Element Timing: when a price was painted (bench/probes/pageload.py reads it)
        timing = ' elementtiming="photon-price"' if any(c.isdigit() for c in price) else ""
        coords = cached_spark_coords(str(r["symbol"]), r.get("points") or [])
        spark = (f'<svg viewBox="0 0 {SPARK_W} {SPARK_H}" preserveAspectRatio="none" '
                 f'aria-hidden="true" class="{trend}"><polyline points="{coords}"/></svg>'
                 if coords else "")
        body.append(
            f'<tr><th scope="row">{escape(str(r["symbol"]))}</th>'
            f'<td class="px"{timing}>{escape(price)}</td>'
            f'<td class="chg {trend}">{arrow}{escape(str(r.get("change") or ""))}</td>'
            f'<td class="vol">{escape(str(r.get("volume") or ""))}</td><td></td>'
            f'<td>{spark}</td><td></td></tr>')
    heads = "".join(f'<th scope="col">{h}</th>' for h in COLUMNS)
    cols = "".join(f'<col style="width: {w}%">' for w in COLUMNS.values())
    return (f'<div id="{ELEMENT_ID}">{_STYLE}<div>'
            f'<p class="fp-title">{escape(title)} <small>{escape(subtitle)}</small></p>'
            f'<p class="fp-status">Connecting… prices as of page load'
            f'{" · " + escape(feed) if feed else ""}</p>'
            f'<table><colgroup>{cols}</colgroup><thead><tr>{heads}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>'
            f'</div></div>')


def install(doc: Document, dashboard: Dashboard) -> None:
    """Make ``doc``'s page carry ``dashboard``'s prices as of now, ahead of its scripts."""
    hub = dashboard.hub
    health = hub.health()
    doc.template = PAGE
    doc.template_variables["first_paint"] = first_paint_html(
        sorted_rows(with_latest(dashboard.shown_rows, hub.latest_quote), dashboard.sort),
        title=dashboard.status.title, subtitle=dashboard.status.subtitle,
        feed=f"{health.label}: {health.state.value.replace('_', ' ')}")
    # The page is rendered once: a session need not keep its HTML (~25 kB with 10
    # symbols' sparklines) once the browser is connected.
    pn.state.onload(lambda: doc.template_variables.pop("first_paint", None))
