"""The camera simulator: sample clips, an RTSP server and faults (see README.md in this folder)."""
