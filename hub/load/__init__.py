"""The hub's own load: measured, judged, and shed in a declared order (see README.md)."""
