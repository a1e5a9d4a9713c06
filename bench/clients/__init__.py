"""Load clients: the processes that hold sessions open against a server and count what
they receive (Photon's Bokeh and fast-lane protocol, the references', slow clients, the
browser probe)."""
