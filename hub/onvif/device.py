"""Reading one ONVIF device: who it is, its media profiles and their stream addresses.

Who runs where: the command line's event loop (`hub onvif add`), talking to the device with
`onvif-zeep-async` (SOAP over HTTP, WS-Security user name token with a password digest). The
answers are copied into plain dataclasses, so `hub.onvif.entries` works on them without the library.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

from hub.safe.redact import redact_text

DEFAULT_PORT = 80
STREAM_SETUP = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}


class DeviceError(Exception):
    """The device could not be read; the message says why in words."""


@dataclass(frozen=True)
class Profile:
    token: str
    name: str
    source: str  # the video source's token: profiles of one camera share it
    source_name: str
    width: int
    height: int
    encoding: str
    stream_uri: str


@dataclass(frozen=True)
class DeviceReport:
    host: str
    port: int
    manufacturer: str
    model: str
    serial: str
    firmware: str
    profiles: tuple[Profile, ...]


def device_address(address: str) -> tuple[str, int]:
    """`http://HOST[:PORT][/...]` (or HOST[:PORT]) -> (host, port); ValueError says what is wrong."""
    parts = urlsplit(address if "//" in address else f"http://{address}")
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{address!r}: expected http://HOST[:PORT]")
    if parts.username or parts.password:
        raise ValueError(f"{parts.hostname}: give the user with --user and the password with --password-env, not in the address")
    try:
        port = parts.port or (443 if parts.scheme == "https" else DEFAULT_PORT)
    except ValueError:
        raise ValueError(f"{address!r}: the port is not a number from 1 to 65535") from None
    if not parts.hostname:
        raise ValueError(f"{address!r}: no host")
    return parts.hostname, port


async def read_device(host: str, port: int, user: str, password: str, timeout_s: float = 20.0) -> DeviceReport:
    """Ask the device for its information, profiles and stream URIs; DeviceError when it cannot be read."""
    from onvif import ONVIFCamera  # imported here: zeep and its WSDLs take a second to load
    from onvif.exceptions import ONVIFError
    from zeep.exceptions import Error as ZeepError

    camera = ONVIFCamera(host, port, user, password)
    try:
        return await asyncio.wait_for(_read(camera, host, port), timeout_s)
    except TimeoutError:
        raise DeviceError(f"{host}:{port} gave no answer within {timeout_s:g} s") from None
    except (ONVIFError, ZeepError) as exc:
        raise DeviceError(redact_text(_explain(host, port, user, exc), (password,))) from None
    except OSError as exc:
        raise DeviceError(f"{host}:{port}: {exc.strerror or exc}") from None
    finally:
        await camera.close()


async def _read(camera, host: str, port: int) -> DeviceReport:
    await camera.update_xaddrs()
    devicemgmt = await camera.create_devicemgmt_service()
    info = await devicemgmt.GetDeviceInformation()
    media = await camera.create_media_service()
    profiles = []
    for profile in await media.GetProfiles() or []:
        uri = await media.GetStreamUri({"StreamSetup": STREAM_SETUP, "ProfileToken": profile.token})
        source = getattr(profile, "VideoSourceConfiguration", None)
        encoder = getattr(profile, "VideoEncoderConfiguration", None)
        resolution = getattr(encoder, "Resolution", None)
        profiles.append(
            Profile(
                token=profile.token,
                name=str(getattr(profile, "Name", "") or ""),
                source=str(getattr(source, "SourceToken", "") or profile.token),
                source_name=str(getattr(source, "Name", "") or ""),
                width=int(getattr(resolution, "Width", 0) or 0),
                height=int(getattr(resolution, "Height", 0) or 0),
                encoding=str(getattr(encoder, "Encoding", "") or ""),
                stream_uri=str(getattr(uri, "Uri", "") or ""),
            )
        )
    return DeviceReport(
        host,
        port,
        str(info.Manufacturer or ""),
        str(info.Model or ""),
        str(info.SerialNumber or ""),
        str(info.FirmwareVersion or ""),
        tuple(profiles),
    )


def _explain(host: str, port: int, user: str, exc: Exception) -> str:
    message = str(exc).strip() or type(exc).__name__
    lowered = message.lower()
    if "not authorized" in lowered or "notauthorized" in lowered or "401" in lowered:
        return f"{host}:{port} refused user {user!r}: wrong user name or password ({message})"
    if "cannot connect" in lowered or "connection refused" in lowered or "connect call failed" in lowered:
        return f"{host}:{port}: nothing answers there ({message})"
    return f"{host}:{port} did not answer as an ONVIF device: {message}"
