"""Ticker-list parsing in app.symbols: normalising, refusing and capping user input."""

from app.symbols import parse_symbols, split_symbols

KNOWN = {"AAPL", "TSLA", "GOOGL", "MSFT", "BINANCE:BTCUSDT", "BRK.B"}


def test_normalises_case_spaces_and_duplicates_keeping_order():
    sel = parse_symbols(" tsla, aapl ,TSLA  googl", KNOWN, cap=50)
    assert sel.symbols == ("TSLA", "AAPL", "GOOGL")
    assert sel.ok and sel.message() == ""


def test_accepts_exchange_prefixed_and_dotted_symbols():
    assert parse_symbols(["binance:btcusdt", "BRK.B"], KNOWN, 50).symbols == (
        "BINANCE:BTCUSDT", "BRK.B")


def test_malformed_and_unknown_are_named_not_kept():
    sel = parse_symbols("AAPL,<script>alert(1)</script>,ZZZZ,<img src=x onerror=alert(1)>",
                        KNOWN, 50)
    assert sel.symbols == ("AAPL",)
    assert "<script>alert(1)</script>" in sel.invalid
    assert sel.unknown == ("ZZZZ",)
    msg = sel.message()
    assert "Unknown symbols: ZZZZ" in msg and "malformed" in msg


def test_cap_keeps_the_first_and_reports_the_rest():
    many = ",".join(f"S{i}" for i in range(500))
    sel = parse_symbols(many, None, cap=50)
    assert len(sel.symbols) == 50 and sel.symbols[0] == "S0"
    assert len(sel.over_cap) == 450
    assert "At most 50 symbols" in sel.message() and "and 442 more" in sel.message()


def test_oversized_entry_is_truncated_in_the_message():
    sel = parse_symbols("A" * 10_000, None, cap=50)
    assert sel.symbols == ()
    assert len(sel.invalid[0]) <= 65


def test_empty_input():
    assert parse_symbols("", KNOWN, 50).symbols == ()
    assert parse_symbols(None, KNOWN, 50).ok
    assert split_symbols(",, ,") == []

