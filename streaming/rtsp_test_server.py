"""A real RTSP server for the streaming tests (GStreamer, Debian packages).

Run with Debian's /usr/bin/python3 (python3-gi, gir1.2-gst-rtsp-server-1.0,
gstreamer1.0-rtsp, gstreamer1.0-plugins-{base,good,bad,ugly}), never the venv: PyGObject
and GstRtspServer come from the system. Usage:

    /usr/bin/python3 streaming/rtsp_test_server.py PORT [CLIP.mp4]

Serves rtsp://127.0.0.1:PORT/test: the H.264 track of CLIP (no re-encode, paced in real
time, audio left out; the mount does not loop, so tests concatenate the clip beforehand),
or without CLIP a live test pattern that never ends. Prints READY once it listens.
"""

import os
import sys

# Python puts this script's folder first on sys.path, and streaming/ holds Django modules
# whose names shadow the standard library (streaming/selectors.py): drop it before importing.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != _HERE]

import gi  # noqa: E402

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    port = int(sys.argv[1])
    Gst.init(None)
    if len(sys.argv) == 3:
        # d.video_0 only: the clip's audio is never linked, so it is not served at all.
        source = sys.argv[2].replace('"', "")
        launch = (
            f'( filesrc location="{source}" ! qtdemux name=d d.video_0 ! queue ! h264parse'
            " ! rtph264pay name=pay0 pt=96 config-interval=1 )"
        )
    else:
        launch = (
            "( videotestsrc is-live=true pattern=ball ! video/x-raw,width=640,height=360,framerate=25/1"
            " ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25"
            " ! rtph264pay name=pay0 pt=96 config-interval=1 )"
        )
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")  # tests only: never reachable from outside
    server.set_service(str(port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.set_shared(False)  # every client (and every reconnect) starts the clip afresh
    server.get_mount_points().add_factory("/test", factory)
    if server.attach(None) == 0:
        print(f"FAILED to listen on 127.0.0.1:{port}", flush=True)
        return 1
    print("READY", flush=True)
    GLib.MainLoop().run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
