"""Scenarios: the issue's target cells, scale-out behind the relay, the history store's
costs, garbage-collector pauses; each starts what it measures."""
