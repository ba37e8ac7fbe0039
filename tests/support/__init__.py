"""Helpers the test lanes share: a hub in the test's loop (`hubrun`), simulator estates (`estates`), Chromium
(`browser`), an RTSP client (`rtspclient`), GStreamer's RTSP server (`gst_rtsp_server`, run by Debian's python3)."""
