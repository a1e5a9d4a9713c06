"""The engine on the store: fires by the page's rule on each trade, and a restart (a
new engine on the same file) neither loses an armed alert nor fires twice."""

from __future__ import annotations

import random

from app.alerts.engine import AlertEngine
from app.alerts.rules import Alert, parse_alerts, step
from app.alerts.store import AlertStore
from app.ticks import Tick


def tick(symbol: str, price: float, ts: float = 1_700_000_000.0) -> Tick:
    return Tick(symbol, price, 1.0, ts)


def fired(engine: AlertEngine, symbol: str, prices: list[float]) -> list[str]:
    return [f.condition for p in prices for f in engine.on_tick(tick(symbol, p))]


def board(engine: AlertEngine, text: str, user: str = "ann", name: str = "tech") -> None:
    engine.set_board(user, name, parse_alerts(text).alerts)


def test_each_crossing_fires_once_with_the_trade_that_crossed(tmp_path):
    engine = AlertEngine(AlertStore(tmp_path / "a.sqlite3"))
    board(engine, "AAPL>230.5,TSLA<200")
    out = engine.on_tick(tick("AAPL", 231.0, ts=1_700_000_123.5))
    assert [(f.user, f.board, f.symbol, f.condition, f.price, f.trade_time) for f in out] == [
        ("ann", "tech", "AAPL", "AAPL>230.5", 231.0, 1_700_000_123.5)]
    assert fired(engine, "AAPL", [232, 229, 230, 231]) == ["AAPL>230.5"]
    assert fired(engine, "TSLA", [210, 199, 198]) == ["TSLA<200"]
    assert fired(engine, "MSFT", [1.0]) == []
    assert engine.symbols() == {"AAPL", "TSLA"}


def test_a_restart_keeps_an_armed_alert_armed(tmp_path):
    path = tmp_path / "a.sqlite3"
    board(AlertEngine(AlertStore(path)), "AAPL>230.5")
    again = AlertEngine(AlertStore(path))
    assert fired(again, "AAPL", [231]) == ["AAPL>230.5"]


def test_a_restart_does_not_fire_the_same_crossing_twice(tmp_path):
    path = tmp_path / "a.sqlite3"
    first = AlertEngine(AlertStore(path))
    board(first, "AAPL>230.5")
    assert fired(first, "AAPL", [231]) == ["AAPL>230.5"]
    second = AlertEngine(AlertStore(path))
    assert fired(second, "AAPL", [232, 233]) == []  # still above: the same crossing
    assert fired(second, "AAPL", [229, 231]) == ["AAPL>230.5"]  # back, then a new one
    assert len(AlertStore(path).log("ann")) == 2


def test_a_move_alert_keeps_its_base_across_a_restart(tmp_path):
    path = tmp_path / "a.sqlite3"
    first = AlertEngine(AlertStore(path))
    board(first, "NVDA~2%")
    assert fired(first, "NVDA", [100.0, 101.0]) == []  # base 100: +1 %
    assert fired(AlertEngine(AlertStore(path)), "NVDA", [102.0]) == ["NVDA~2%"]


def test_a_move_alert_set_with_a_known_price_measures_from_it(tmp_path):
    engine = AlertEngine(AlertStore(tmp_path / "a.sqlite3"))
    engine.set_board("ann", "b", parse_alerts("NVDA~2%").alerts, prices={"NVDA": 100.0})
    assert fired(engine, "NVDA", [97.5]) == ["NVDA~2%"]


def test_two_engines_on_one_store_record_a_crossing_once(tmp_path):
    path = tmp_path / "a.sqlite3"
    leader, standby = AlertEngine(AlertStore(path)), AlertEngine(AlertStore(path))
    board(leader, "AAPL>230.5")
    standby.load()
    both = fired(leader, "AAPL", [231]) + fired(standby, "AAPL", [231])
    assert both == ["AAPL>230.5"]
    assert len(AlertStore(path).log("ann")) == 1


def test_saving_a_board_again_keeps_state_and_a_changed_alert_starts_armed(tmp_path):
    engine = AlertEngine(AlertStore(tmp_path / "a.sqlite3"))
    board(engine, "AAPL>230.5,TSLA<200")
    assert fired(engine, "AAPL", [231]) == ["AAPL>230.5"]
    board(engine, "AAPL>230.5,TSLA<190")  # AAPL unchanged (fired), TSLA changed
    assert fired(engine, "AAPL", [232]) == []
    assert fired(engine, "TSLA", [189]) == ["TSLA<190"]
    board(engine, "")
    assert engine.symbols() == set() and fired(engine, "AAPL", [1, 300]) == []


def test_boards_and_users_are_kept_apart(tmp_path):
    engine = AlertEngine(AlertStore(tmp_path / "a.sqlite3"))
    board(engine, "AAPL>230.5", user="ann")
    board(engine, "AAPL>230.5", user="bob")
    board(engine, "AAPL>230.5", user="bob", name="other")
    out = engine.on_tick(tick("AAPL", 231))
    assert sorted((f.user, f.board) for f in out) == [("ann", "tech"), ("bob", "other"),
                                                       ("bob", "tech")]
    assert len({f.id for f in out}) == 3


def test_a_broken_price_is_no_crossing_and_changes_nothing(tmp_path):
    engine = AlertEngine(AlertStore(tmp_path / "a.sqlite3"))
    board(engine, "AAPL<200,NVDA~2%")
    assert fired(engine, "AAPL", [float("nan"), 0.0, -1.0, float("inf")]) == []
    assert fired(engine, "NVDA", [float("nan"), 100.0, 102.0]) == ["NVDA~2%"]  # base 100


def test_checking_only_thresholds_between_two_prices_fires_as_checking_every_alert(tmp_path):
    """The engine's bisection against the rule itself, on random paths over many
    thresholds of both kinds (and moves): the same firings, trade by trade."""
    rng = random.Random(7)
    alerts = ([Alert("AAPL", ">", round(rng.uniform(90, 110), 2)) for _ in range(40)]
              + [Alert("AAPL", "<", round(rng.uniform(90, 110), 2)) for _ in range(40)]
              + [Alert("AAPL", "~", v) for v in (1.0, 3.0)])
    engine = AlertEngine(AlertStore(tmp_path / "a.sqlite3"))
    engine.set_board("ann", "b", alerts)
    armed = {a.key: True for a in alerts}
    base: dict[str, float] = {}
    for _ in range(400):
        price = round(rng.uniform(88, 112), 2)
        expected = []
        for a in alerts:
            base.setdefault(a.key, price)
            now, armed[a.key] = step(a, armed[a.key], price, base[a.key] if a.op == "~" else None)
            if now:
                expected.append(a.key)
        got = [f.condition for f in engine.on_tick(tick("AAPL", price))]
        assert sorted(got) == sorted(expected), price
