"""The end-to-end lane: real simulators, hubs, RTSP servers, browsers and Prometheus on loopback."""
