"""The process around the board: process-wide singletons, fixes to the Bokeh server,
the garbage-collector policy and its watch, metrics and log set-up.
"""
