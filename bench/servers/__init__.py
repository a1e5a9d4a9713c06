"""Reference servers Photon is measured against: a bare Tornado WebSocket server (the
ceiling for Python fan-out) and Flask-SocketIO, both over Photon's own hub."""
