"""hub: video-feed aggregation and monitoring hub."""

__version__ = "0.7.0"
