"""Photon capacity benchmark; see bench/README.md."""
