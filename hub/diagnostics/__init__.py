"""Picture diagnostics (video-quality diagnosis): pure measures over sampled pictures, and their confirmation."""
