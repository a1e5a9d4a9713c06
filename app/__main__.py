"""``python -m app``: the same as the ``photon`` command."""

from app.cli import main

main()
