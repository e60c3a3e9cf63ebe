"""Signed export bundles: CSV, JSON Lines, OCSF JSON Lines and PDF (see ``bundle``)."""
