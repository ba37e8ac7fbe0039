"""The simulator as an ONVIF device: the device and media services an NVR answers, for all its cameras.

Who runs where: `OnvifDevice.answer` is pure (a SOAP request in, a status and a SOAP answer out); the
aiohttp handlers in `add_routes` run on the simulator's event loop, on its control port:
`POST /onvif/device_service`, `POST /onvif/media_service` and `GET /onvif/snapshot/<id>`.

The simulator answers as one NVR: every simulated camera is a video source with a main profile
(`<id>-main`) and, when it has a substream, a sub profile (`<id>-sub`). Authentication is WS-Security's
user name token, checked against the cameras' own credentials (`sim://user:pass@scene`): a token opens
the cameras with those credentials, cameras without credentials are open to every request, and a
token that matches no camera is refused as "not authorized", as a camera refuses a wrong password.
Operations: GetSystemDateAndTime, GetServices, GetCapabilities, GetDeviceInformation (device);
GetProfiles, GetProfile, GetVideoSources, GetStreamUri, GetSnapshotUri (media).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from hub import __version__
from hub.config import Config
from hub.ingest.jpeg import encode_jpeg
from hub.sim import auth, scenes
from hub.sim.onvif_soap import (
    DEVICE_NS,
    MEDIA_NS,
    SoapError,
    SoapRequest,
    UsernameToken,
    element,
    envelope,
    fault,
    parse_request,
    text,
    token_matches,
)

DEVICE_PATH = "/onvif/device_service"
MEDIA_PATH = "/onvif/media_service"
SNAPSHOT_PATH = "/onvif/snapshot"
MAX_BODY = 64 * 1024
CLOCK_SKEW_S = 300  # a token created further from the device's clock is refused (replayed, or a wrong clock)
PRE_AUTH = {"GetSystemDateAndTime"}  # answered whatever the token says (clients read the clock first)
WILDCARD_HOSTS = {"", "0.0.0.0", "::"}


@dataclass(frozen=True)
class OnvifCamera:
    """One simulated camera as the device describes it."""

    id: str
    name: str
    scene: str
    width: int
    height: int
    fps: int
    codec: str
    sub_size: tuple[int, int] | None
    username: str = ""
    password: str = ""

    def profiles(self) -> list[tuple[str, int, int, str]]:
        """(profile token, width, height, feed path) of the main and sub profiles."""
        main = [(f"{self.id}-main", self.width, self.height, self.id)]
        return main + ([(f"{self.id}-sub", *self.sub_size, f"{self.id}/sub")] if self.sub_size else [])


def cameras_of(config: Config) -> list[OnvifCamera]:
    return [
        OnvifCamera(
            s.id,
            s.name,
            s.sim.scene,
            s.sim.width,
            s.sim.height,
            s.sim.fps,
            s.sim.codec,
            (s.sim.sub_width, s.sim.sub_height) if s.sim.sub_width else None,
            s.sim.username,
            s.sim.password,
        )
        for s in config.streams
        if s.sim is not None
    ]


class Refused(Exception):
    """An answer that is a SOAP fault."""

    def __init__(self, status: int, code: str, subcode: str, reason: str):
        super().__init__(reason)
        self.status, self.code, self.subcode, self.reason = status, code, subcode, reason


class OnvifDevice:
    def __init__(self, cameras: list[OnvifCamera], rtsp_host: str, rtsp_port: int, serial: str = "hub-sim-0001"):
        self.cameras = {c.id: c for c in cameras}
        self.rtsp_host = rtsp_host
        self.rtsp_port = rtsp_port
        self.serial = serial

    def answer(self, service: str, body: bytes, host: str, now: dt.datetime) -> tuple[int, str]:
        """The answer to one SOAP request to `service` (DEVICE_PATH or MEDIA_PATH), reached at `host`
        (the request's Host header: addresses in the answer use it)."""
        try:
            request = parse_request(body)
            handlers = DEVICE_OPERATIONS if service == DEVICE_PATH else MEDIA_OPERATIONS
            handler = handlers.get(request.operation)
            if handler is None:
                raise Refused(400, "Receiver", "ActionNotSupported", f"{request.operation} is not supported by this device")
            visible = None if request.operation in PRE_AUTH else self._visible(request.token, now)
            return 200, envelope(handler(self, request, visible, host, now))
        except SoapError as exc:
            return 400, fault("Sender", "WellFormed", str(exc))
        except Refused as refused:
            return refused.status, fault(refused.code, refused.subcode, refused.reason)

    def _visible(self, token: UsernameToken | None, now: dt.datetime) -> list[OnvifCamera]:
        """The cameras this request may see; Refused when its token opens none."""
        open_cameras = [c for c in self.cameras.values() if not c.username]
        if token is None or not token.username:  # an empty user name is a client with nothing to say
            if len(open_cameras) < len(self.cameras):
                raise Refused(400, "Sender", "NotAuthorized", "Sender not Authorized: this device needs a user name and password")
            return open_cameras
        if token.digest and not _fresh(token.created, now):
            raise Refused(
                400,
                "Sender",
                "NotAuthorized",
                "Sender not Authorized: the token's Created time is not within 5 minutes of the device's clock",
            )
        opened = [c for c in self.cameras.values() if c.username and token_matches(token, c.username, c.password)]
        if not opened:
            raise Refused(400, "Sender", "NotAuthorized", "Sender not Authorized: wrong user name or password")
        return open_cameras + opened

    def stream_uri(self, feed: str, host: str) -> str:
        return f"rtsp://{self._host_for(self.rtsp_host, host)}:{self.rtsp_port}/{feed}"

    @staticmethod
    def _host_for(listen_host: str, request_host: str) -> str:
        """The address a client reaches a service at: the listen address, or (a wildcard) the one it used."""
        host = listen_host
        if listen_host in WILDCARD_HOSTS:
            host = urlsplit(f"//{request_host}").hostname or "127.0.0.1"
        return f"[{host}]" if ":" in host else host


def _fresh(created: str, now: dt.datetime) -> bool:
    try:
        when = dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return abs((now - when).total_seconds()) <= CLOCK_SKEW_S


def _profile(request: SoapRequest, visible: list[OnvifCamera]) -> tuple[OnvifCamera, tuple]:
    token = request.params.get("ProfileToken", "")
    for camera in visible:
        for profile in camera.profiles():
            if profile[0] == token:
                return camera, profile
    raise Refused(400, "Sender", "InvalidArgVal", f"no profile {token!r}")


# The operations: each returns the body of its answer.


def _system_date_and_time(device, request, visible, host, now: dt.datetime) -> str:
    when = element("tt:Time", text("tt:Hour", now.hour) + text("tt:Minute", now.minute) + text("tt:Second", now.second))
    when += element("tt:Date", text("tt:Year", now.year) + text("tt:Month", now.month) + text("tt:Day", now.day))
    return element(
        "tds:GetSystemDateAndTimeResponse",
        element(
            "tds:SystemDateAndTime",
            text("tt:DateTimeType", "Manual")
            + text("tt:DaylightSavings", "false")
            + element("tt:TimeZone", text("tt:TZ", "UTC0"))
            + element("tt:UTCDateTime", when),
        ),
    )


def _services(device, request, visible, host, now) -> str:
    services = ""
    for namespace, path in ((DEVICE_NS, DEVICE_PATH), (MEDIA_NS, MEDIA_PATH)):
        version = element("tds:Version", text("tt:Major", 2) + text("tt:Minor", 60))
        services += element("tds:Service", text("tds:Namespace", namespace) + text("tds:XAddr", f"http://{host}{path}") + version)
    return element("tds:GetServicesResponse", services)


def _capabilities(device, request, visible, host, now) -> str:
    streaming = element(
        "tt:StreamingCapabilities",
        text("tt:RTPMulticast", "false") + text("tt:RTP_TCP", "true") + text("tt:RTP_RTSP_TCP", "true"),
    )
    return element(
        "tds:GetCapabilitiesResponse",
        element(
            "tds:Capabilities",
            element("tt:Device", text("tt:XAddr", f"http://{host}{DEVICE_PATH}"))
            + element("tt:Media", text("tt:XAddr", f"http://{host}{MEDIA_PATH}") + streaming),
        ),
    )


def _device_information(device, request, visible, host, now) -> str:
    return element(
        "tds:GetDeviceInformationResponse",
        text("tds:Manufacturer", "hub")
        + text("tds:Model", "camera simulator")
        + text("tds:FirmwareVersion", __version__)
        + text("tds:SerialNumber", device.serial)
        + text("tds:HardwareId", "hub-sim"),
    )


def _profile_xml(tag: str, camera: OnvifCamera, profile: tuple) -> str:
    token, width, height, _feed = profile
    kind = "sub" if token.endswith("-sub") else "main"
    source = element(
        "tt:VideoSourceConfiguration",
        text("tt:Name", camera.name)
        + text("tt:UseCount", len(camera.profiles()))
        + text("tt:SourceToken", camera.id)
        + element("tt:Bounds", x=0, y=0, width=camera.width, height=camera.height),
        token=f"{camera.id}-source",
    )
    rate = element(
        "tt:RateControl", text("tt:FrameRateLimit", camera.fps) + text("tt:EncodingInterval", 1) + text("tt:BitrateLimit", 1024)
    )
    encoder = element(
        "tt:VideoEncoderConfiguration",
        text("tt:Name", f"{camera.name} {kind}")
        + text("tt:UseCount", 1)
        + text("tt:Encoding", camera.codec.upper())
        + element("tt:Resolution", text("tt:Width", width) + text("tt:Height", height))
        + text("tt:Quality", 5)
        + rate
        + text("tt:SessionTimeout", "PT60S"),
        token=f"{token}-encoder",
    )
    return element(tag, text("tt:Name", f"{camera.name} ({kind})") + source + encoder, token=token, fixed="true")


def _profiles(device, request, visible, host, now) -> str:
    return element("trt:GetProfilesResponse", "".join(_profile_xml("trt:Profiles", c, p) for c in visible for p in c.profiles()))


def _one_profile(device, request, visible, host, now) -> str:
    camera, profile = _profile(request, visible)
    return element("trt:GetProfileResponse", _profile_xml("trt:Profile", camera, profile))


def _video_sources(device, request, visible, host, now) -> str:
    sources = "".join(
        element(
            "trt:VideoSources",
            text("tt:Framerate", c.fps) + element("tt:Resolution", text("tt:Width", c.width) + text("tt:Height", c.height)),
            token=c.id,
        )
        for c in visible
    )
    return element("trt:GetVideoSourcesResponse", sources)


def _media_uri(tag: str, uri: str) -> str:
    return element(
        tag,
        element(
            "trt:MediaUri",
            text("tt:Uri", uri)
            + text("tt:InvalidAfterConnect", "false")
            + text("tt:InvalidAfterReboot", "false")
            + text("tt:Timeout", "PT0S"),
        ),
    )


def _stream_uri(device, request, visible, host, now) -> str:
    _camera, profile = _profile(request, visible)
    return _media_uri("trt:GetStreamUriResponse", device.stream_uri(profile[3], host))


def _snapshot_uri(device, request, visible, host, now) -> str:
    _camera, profile = _profile(request, visible)
    return _media_uri("trt:GetSnapshotUriResponse", f"http://{host}{SNAPSHOT_PATH}/{profile[3]}")


DEVICE_OPERATIONS = {
    "GetSystemDateAndTime": _system_date_and_time,
    "GetServices": _services,
    "GetCapabilities": _capabilities,
    "GetDeviceInformation": _device_information,
}
MEDIA_OPERATIONS = {
    "GetProfiles": _profiles,
    "GetProfile": _one_profile,
    "GetVideoSources": _video_sources,
    "GetStreamUri": _stream_uri,
    "GetSnapshotUri": _snapshot_uri,
}

DEVICE = web.AppKey("onvif_device", OnvifDevice)
SNAPSHOT_NONCE = web.AppKey("onvif_snapshot_nonce", str)


async def _soap(request: web.Request) -> web.Response:
    if request.content_length is not None and request.content_length > MAX_BODY:
        return web.Response(status=413, text="request too large")
    body = await request.content.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return web.Response(status=413, text="request too large")
    status, answer = request.app[DEVICE].answer(request.path, body, request.host, dt.datetime.now(dt.UTC))
    return web.Response(status=status, text=answer, content_type="application/soap+xml", charset="utf-8")


async def _snapshot(request: web.Request) -> web.Response:
    """A JPEG of the camera's scene, behind its credentials (HTTP Digest or Basic, as cameras do)."""
    device, nonce = request.app[DEVICE], request.app[SNAPSHOT_NONCE]
    feed = request.match_info["feed"]
    camera = device.cameras.get(feed.removesuffix("/sub"))
    if camera is None or (feed.endswith("/sub") and camera.sub_size is None):
        return web.Response(status=404, text="no such camera")
    header = request.headers.get("Authorization")
    if camera.username and not auth.is_authorized(header, "GET", camera.username, camera.password, nonce):
        response = web.Response(status=401, text="wrong user name or password")
        for value in auth.challenge_headers(nonce):
            response.headers.add("WWW-Authenticate", value)
        return response
    width, height = camera.sub_size if feed.endswith("/sub") and camera.sub_size else (camera.width, camera.height)
    picture = scenes.draw(camera.scene, scenes.FrameSpec(0, width, height, camera.fps, camera.name))
    return web.Response(body=encode_jpeg(picture), content_type="image/jpeg")


def add_routes(app: web.Application, device: OnvifDevice) -> None:
    app[DEVICE] = device
    app[SNAPSHOT_NONCE] = secrets.token_hex(16)
    app.router.add_post(DEVICE_PATH, _soap)
    app.router.add_post(MEDIA_PATH, _soap)
    app.router.add_get(SNAPSHOT_PATH + "/{feed:.+}", _snapshot)
