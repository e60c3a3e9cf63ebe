"""Steward's small client: ``steward check`` for CI, ``steward verify-export`` for auditors."""

__version__ = "0.1.0"
