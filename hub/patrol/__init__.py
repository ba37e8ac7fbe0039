"""Patrol monitoring: cheap RTSP probes between visits, and (to come) visits in rotation."""
