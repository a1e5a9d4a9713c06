"""The quote book (app/hub/quote_book.py): changes per cycle, dropped symbols, notes."""

from app.hub.quote_book import QuoteBook
from app.ticks import Tick


def test_quote_book_publishes_only_changes_and_forgets_dropped_symbols():
    book = QuoteBook(history_len=3)
    book.add("A")
    book.add("B")
    assert book.publish() == 0  # nothing changed yet: no cycle
    book.fold([Tick("A", 10.0, 1.0, 1.0), Tick("Z", 5.0, 1.0, 1.0)])
    assert book.publish() == 1
    assert book.quote("A").last == 10.0 and book.quote("Z") is None
    changes = book.changes_since(0, ["A", "B"])
    assert [q.symbol for q in changes.quotes] == ["A"] and changes.points["A"] == [(1.0, 10.0)]
    assert book.changes_since(1, ["A"]).quotes == []
    book.drop("A")
    assert book.quote("A") is None and book.history("A") == []


def test_quote_book_notes_mark_and_clear():
    book = QuoteBook()
    book.add("A")
    book.apply_notes({"A": "over the symbol limit"})
    book.publish()
    assert book.quote("A").note == "over the symbol limit"
    book.apply_notes({})
    book.publish()
    assert book.quote("A").note == ""
