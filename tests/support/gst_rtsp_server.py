"""A GStreamer RTSP server (gst-rtsp-server) serving MP4 files: a server we did not write.

Run by Debian's /usr/bin/python3 (which has python3-gi), not by the project's
virtualenv: `python3 gst_rtsp_server.py PORT /path=file.mp4 [...]`. Prints
"ready" when it listens; runs until killed.
"""

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

PIPELINES = {
    "h264": "( filesrc location={file} ! qtdemux ! h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96 )",
    "h265": "( filesrc location={file} ! qtdemux ! h265parse config-interval=-1 ! rtph265pay name=pay0 pt=96 )",
}


def main() -> None:
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(sys.argv[1])
    mounts = server.get_mount_points()
    for spec in sys.argv[2:]:
        path, _, file = spec.partition("=")
        codec = "h265" if "265" in file else "h264"
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(PIPELINES[codec].format(file=file))
        mounts.add_factory(path, factory)
    server.attach(None)
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
