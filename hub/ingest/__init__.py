"""Ingest: one reader thread per stream (PyAV), an asyncio supervisor around it, observations to the loop."""
