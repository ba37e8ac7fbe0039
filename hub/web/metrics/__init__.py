"""/metrics: the Prometheus collector over the index (`collector.py`), a body rendered in the background
(`cache.py`), and one per set of rights for scoped tokens (`scoped.py`)."""
