"""VLC's RTSP server (Debian's `vlc-bin`) as a camera: a server we did not write, which serves RTP over
UDP only (it refuses RTP interleaved in the RTSP connection) and ends its stream at every loop of its file.

`VlcCamera(file, port)` plays `file` in a loop at rtsp://127.0.0.1:PORT/cam until `kill()`. VLC will not run
as root, so as root it runs as `nobody`, from a folder that user can read.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

NOBODY = 65534
READY_S = 20.0


def vlc_available() -> bool:
    return shutil.which("cvlc") is not None


class VlcCamera:
    def __init__(self, file: Path, port: int):
        self.port = port
        self.folder = Path(tempfile.mkdtemp(prefix="hub-vlc-"))
        os.chmod(self.folder, 0o755)
        self.file = self.folder / "camera.mp4"
        shutil.copyfile(file, self.file)
        os.chmod(self.file, 0o644)
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam"

    def start(self) -> VlcCamera:
        command = ["cvlc", "-q", "--no-audio", str(self.file), "--loop", "--sout-keep",
                   "--sout", f"#rtp{{sdp=rtsp://127.0.0.1:{self.port}/cam}}"]  # fmt: skip
        if os.geteuid() == 0:
            command = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]
        env = {**os.environ, "HOME": str(self.folder)}
        self.process = subprocess.Popen(command, env=env, cwd=self.folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + READY_S
        while not _listening(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"cvlc exited: {self.process.stderr.read().decode(errors='replace')[-500:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"cvlc did not listen on {self.port} within {READY_S:.0f} s")
            time.sleep(0.1)
        return self

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0
