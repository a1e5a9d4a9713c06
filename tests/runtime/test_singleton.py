"""OnePerProcess (app.runtime.singleton): made once, closed once, gone after stop."""

from app.runtime.singleton import OnePerProcess


class Thing:
    def __init__(self):
        self.closed = 0

    def close(self):
        self.closed += 1


def test_start_makes_one_instance_and_stop_closes_it_once():
    one: OnePerProcess[Thing] = OnePerProcess()
    assert one.get() is None
    made = []
    first = one.start(lambda: made.append(Thing()) or made[-1])
    assert one.start(lambda: made.append(Thing()) or made[-1]) is first
    assert one.get() is first and len(made) == 1
    one.stop()
    one.stop()  # nothing left to close
    assert one.get() is None and first.closed == 1
