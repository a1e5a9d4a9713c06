"""Alerts on the server: the shared rule, the engine that evaluates armed alerts on
every trade, their store, and delivery by webhook and e-mail.

Below the hub and the relay (which will feed the engine trades) and above sign-in;
nothing here knows Panel or Bokeh.
"""
