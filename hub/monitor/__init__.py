"""The monitor: the one writer of the index. It runs every stream's reader or patrol, folds what they
observe into health, and keeps the index, the events and the load in step. See `monitor.py`."""

from hub.monitor.monitor import Monitor

__all__ = ["Monitor"]
