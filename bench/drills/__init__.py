"""Fault drills and endurance runs: a deployment broken part by part under load, sessions
opening and closing for hours; what viewers saw and what memory did."""
