"""HTTPS served directly ([hub] tls_cert and tls_key): the session cookie is Secure, and bad TLS settings are clear errors."""

from __future__ import annotations

import re
import ssl
import subprocess

import aiohttp
import pytest
from support.processes import DEAD, start_hub

from hub.config import ConfigError, load_config


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(folder / "key.pem"),
            "-out",
            str(folder / "cert.pem"),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return folder / "cert.pem", folder / "key.pem"


async def test_the_hub_serves_https_with_a_secure_session_cookie(tmp_path, certificate):
    cert, key = certificate
    config = tmp_path / "streams.toml"
    config.write_text(f'[hub]\ntls_cert = "{cert}"\ntls_key = "{key}"\n' + DEAD)
    process, url, lines = start_hub(config, scheme="https")
    try:
        password = re.search(r"created user admin with password (\S+)", "".join(lines)).group(1)
        trust = ssl.create_default_context(cafile=str(cert))
        jar = aiohttp.CookieJar(unsafe=True)  # cookies for an IP address
        async with aiohttp.ClientSession(
            headers={"Origin": url}, connector=aiohttp.TCPConnector(ssl=trust), cookie_jar=jar
        ) as session:
            async with session.post(f"{url}/api/login", json={"user": "admin", "password": password}) as reply:
                assert reply.status == 200
                cookie = reply.headers["Set-Cookie"]
            assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
            async with session.get(f"{url}/api/streams") as reply:
                assert reply.status == 200
        async with aiohttp.ClientSession() as plain:
            with pytest.raises(aiohttp.ClientError):
                async with plain.get(url.replace("https://", "http://") + "/healthz") as reply:
                    await reply.read()
    finally:
        process.terminate()
        process.wait(20)


def test_tls_settings_are_checked_when_the_config_loads(tmp_path, certificate):
    cert, _ = certificate
    config = tmp_path / "streams.toml"
    config.write_text(f'[hub]\ntls_cert = "{cert}"\n')
    with pytest.raises(ConfigError, match="tls_cert and tls_key go together"):
        load_config(config)
    config.write_text(f'[hub]\ntls_cert = "{cert}"\ntls_key = "missing.pem"\n')
    with pytest.raises(ConfigError, match="missing.pem: no such file"):
        load_config(config)
