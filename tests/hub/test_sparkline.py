"""Bounded sparklines (app/hub/sparkline.py): the day stays, the recent past keeps its
detail, and the browser's copy of the rule (app/views/spark.js) gives the same points."""

from __future__ import annotations

import random
from pathlib import Path

from app.hub.quote_book import QuoteBook
from app.hub.sparkline import compact_points, low_water
from app.ticks import Tick
from tests.nodejs import run_module

SPARK_JS = Path(__file__).resolve().parents[2] / "app" / "views" / "spark.js"


def compact(points, cap):
    return compact_points(points, cap, time_of=lambda p: p[0])


def test_under_the_cap_nothing_changes():
    pts = [(float(i), 1.0 + i) for i in range(10)]
    assert compact(pts, 10) == pts


def test_a_seeded_day_survives_a_burst_of_live_points():
    day = [(60.0 * m, 100.0 + m) for m in range(100)]  # 100 one-minute points
    live_start = 60.0 * 100
    points = list(day)
    for i in range(2000):  # a busy symbol: 10 points a second for 200 s
        points.append((live_start + i / 10, 200.0 + i))
        if len(points) > 240:
            points = compact(points, 240)
    minutes = {int(t // 60) for t, _ in points}
    assert len(points) <= 240
    assert points[0] == day[0]  # the day's start is still drawn
    assert set(range(100)) <= minutes  # every minute of the day kept one point
    newest_minute = int(points[-1][0] // 60)
    detail = [p for p in points if int(p[0] // 60) == newest_minute]
    assert len(detail) >= 240 // 4  # the live minute keeps its detail
    done = [m for m in minutes if 100 <= m < newest_minute]  # live minutes now past
    assert all(sum(1 for t, _ in points if int(t // 60) == m) == 1 for m in done)
    assert points[-1] == (live_start + 199.9, 2199.0)  # the latest price is the tip


def test_when_every_minute_is_one_point_the_oldest_go():
    pts = [(60.0 * m, float(m)) for m in range(300)]
    out = compact(pts, 240)
    assert len(out) == low_water(240) and out[-1] == pts[-1] and out[0] == pts[300 - len(out)]


def test_the_quote_book_keeps_the_seeded_day_under_live_ticks():
    book = QuoteBook(history_len=120)
    book.add("A")
    book.seed("A", [(60.0 * m, 100.0) for m in range(60)])
    book.publish()
    for i in range(1000):
        book.fold([Tick("A", 101.0 + (i % 7), 1.0, 3600.0 + i * 0.1)])
        book.publish()
    kept = book.history("A")
    assert len(kept) <= 120 and kept[0] == (0.0, 100.0)  # the first seeded minute
    assert kept[-1][1] == 101.0 + (999 % 7)


def test_the_browser_thins_its_points_as_the_server_does():
    rng = random.Random(7)
    cases = []
    for _ in range(40):
        t, pts = 0.0, []
        for _ in range(rng.randint(5, 400)):
            t += rng.choice([0.1, 0.5, 3.0, 60.0, 61.0])
            pts.append([t, round(rng.uniform(90, 110), 2)])
        cases.append({"points": pts, "cap": rng.choice([8, 60, 120, 240])})
    from_js = run_module("spark.js", "console.log(JSON.stringify(input.map((c) => "
                         "m.compactPoints(c.points, c.cap))))", cases)
    for case, got in zip(cases, from_js, strict=True):
        expected = compact([tuple(p) for p in case["points"]], case["cap"])
        assert [tuple(p) for p in got] == expected


def test_the_browser_gives_each_minute_the_same_width_on_the_line():
    day = [[60.0 * m, 1.0] for m in range(3)]  # three one-point minutes
    live = [[180.0 + s, 1.0] for s in (1, 2, 3, 4)]  # then four points in one minute
    both, only_live, only_day = run_module(
        "spark.js", "console.log(JSON.stringify(input.map((c) => m.sparkSlots(c))))",
        [day + live, live, day])
    assert both == [1, 2, 3, 3.25, 3.5, 3.75, 4]  # the live minute takes one minute's room
    assert only_live == [0.25, 0.5, 0.75, 1]  # without history it spreads over the line
    assert only_day == [1, 2, 3]


def test_a_day_seeded_under_live_points_reaches_views_that_drew_them():
    """A REST backfill answering after the first trades: the views that drew the live
    points get the whole line again, flagged as a reset; later views as usual."""
    book = QuoteBook(history_len=240)
    book.add("A")
    book.fold([Tick("A", 101.0, 1.0, 3600.0)])
    book.publish()
    book.fold([Tick("A", 102.0, 1.0, 3601.0)])
    seen = book.publish()  # a view has drawn both live points, up to this cycle
    assert book.changes_since(seen - 1, ["A"]).points["A"] == [(3601.0, 102.0)]
    book.seed("A", [(60.0 * m, 100.0) for m in range(60)])  # the day, arriving late
    book.seed("A", [(60.0 * m, 100.0) for m in range(60)])  # again: nothing older: no-op
    book.publish()
    late = book.changes_since(seen, ["A"])
    assert late.resets == {"A"}
    assert late.points["A"] == book.history("A") and len(late.points["A"]) == 62
    assert late.points["A"][0] == (0.0, 100.0) and late.points["A"][-1] == (3601.0, 102.0)
    book.fold([Tick("A", 103.0, 1.0, 3602.0)])
    book.publish()
    after = book.changes_since(late.cycle, ["A"])  # a view that got the reset goes on
    assert after.resets == frozenset() and after.points["A"] == [(3602.0, 103.0)]
    fresh = book.changes_since(0, ["A"])  # a new view: everything, no reset needed
    assert fresh.resets == frozenset() and len(fresh.points["A"]) == 63
    book.drop("A")
    book.add("A")
    book.fold([Tick("A", 104.0, 1.0, 3700.0)])
    book.publish()
    assert book.changes_since(seen, ["A"]).resets == frozenset()  # forgotten with the symbol
