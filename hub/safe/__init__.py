"""Safeguards every part uses: credentials never shown (`redact.py`), numbers read from ASCII only
(`numbers.py`), files the hub keeps readable by its owner only (`files.py`). Pure; no part of the hub
below them."""
