"""Several processes: the relay holds the upstream once and publishes through Redis
(:mod:`app.relay.publisher`); :mod:`app.relay.supervisor` runs a relay and N servers
(``photon --procs``). Servers read the relay with :mod:`app.feeds.redis_feed`, in the
wire formats of :mod:`app.feeds.redis_formats`.
"""
