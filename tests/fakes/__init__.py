"""Local fakes of upstream services, for tests that must not touch the internet."""

from tests.fakes.alpaca_fake import FakeAlpaca
from tests.fakes.finnhub_fake import FakeConnection, FakeFinnhub
from tests.support import wait_until

__all__ = ["FakeAlpaca", "FakeConnection", "FakeFinnhub", "wait_until"]
