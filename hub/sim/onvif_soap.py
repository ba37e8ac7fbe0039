"""SOAP for the simulator's ONVIF device: read a request, check its WS-Security user name token, write
answers and faults. Pure functions, no I/O.

Requests are SOAP 1.2 envelopes as ONVIF clients send them; only the operation's name, its direct
parameters and the `UsernameToken` are read. Answers are written from small templates with every
value escaped. Parsing uses the standard library's expat, which refuses external entities and
entity expansion bombs, and bodies are bounded by the caller.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
DEVICE_NS = "http://www.onvif.org/ver10/device/wsdl"
MEDIA_NS = "http://www.onvif.org/ver10/media/wsdl"
SCHEMA_NS = "http://www.onvif.org/ver10/schema"
ERROR_NS = "http://www.onvif.org/ver10/error"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
PASSWORD_DIGEST = "#PasswordDigest"


class SoapError(ValueError):
    """A request that is not a SOAP envelope the device can read."""


@dataclass(frozen=True)
class UsernameToken:
    username: str
    password: str  # the digest (Base64) or, for PasswordText, the password itself
    digest: bool
    nonce: bytes = b""
    created: str = ""


@dataclass(frozen=True)
class SoapRequest:
    operation: str  # the body element's local name, such as "GetProfiles"
    namespace: str
    params: dict[str, str] = field(default_factory=dict)  # direct children's local names -> text
    token: UsernameToken | None = None


def parse_request(body: bytes) -> SoapRequest:
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise SoapError(f"not XML: {exc}") from None
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise SoapError("not a SOAP 1.2 envelope")
    soap_body = root.find(f"{{{SOAP_ENV}}}Body")
    if soap_body is None or len(soap_body) == 0:
        raise SoapError("the envelope has no body")
    operation = soap_body[0]
    namespace, _, name = operation.tag[1:].partition("}") if operation.tag.startswith("{") else ("", "", operation.tag)
    params = {_local(child.tag): (child.text or "").strip() for child in operation}
    return SoapRequest(name, namespace, params, _token(root))


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _token(root: ET.Element) -> UsernameToken | None:
    element = root.find(f"{{{SOAP_ENV}}}Header/{{{WSSE_NS}}}Security/{{{WSSE_NS}}}UsernameToken")
    if element is None:
        return None
    password = element.find(f"{{{WSSE_NS}}}Password")
    nonce = element.find(f"{{{WSSE_NS}}}Nonce")
    try:
        nonce_bytes = base64.b64decode((nonce.text or "").strip(), validate=True) if nonce is not None else b""
    except binascii.Error:
        raise SoapError("the user name token's nonce is not Base64") from None
    return UsernameToken(
        username=(element.findtext(f"{{{WSSE_NS}}}Username") or "").strip(),
        password=(password.text or "").strip() if password is not None else "",
        digest=password is not None and password.get("Type", "").endswith(PASSWORD_DIGEST),
        nonce=nonce_bytes,
        created=(element.findtext(f"{{{WSU_NS}}}Created") or "").strip(),
    )


def token_matches(token: UsernameToken, username: str, password: str) -> bool:
    """WS-Security UsernameToken: Base64(SHA-1(nonce + created + password)), or the password as text."""
    if not hmac.compare_digest(token.username.encode(), username.encode()):
        return False
    if not token.digest:
        return hmac.compare_digest(token.password.encode(), password.encode())
    expected = base64.b64encode(hashlib.sha1(token.nonce + token.created.encode() + password.encode()).digest()).decode()
    return hmac.compare_digest(token.password.encode(), expected.encode())


def envelope(body: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope xmlns:env="{SOAP_ENV}" xmlns:tds="{DEVICE_NS}" '
        f'xmlns:trt="{MEDIA_NS}" xmlns:tt="{SCHEMA_NS}" xmlns:ter="{ERROR_NS}"><env:Body>{body}</env:Body></env:Envelope>'
    )


def fault(code: str, subcode: str, reason: str) -> str:
    """A SOAP fault: `code` Sender or Receiver, `subcode` an ONVIF error such as "NotAuthorized"."""
    return envelope(
        f"<env:Fault><env:Code><env:Value>env:{code}</env:Value><env:Subcode><env:Value>ter:{subcode}</env:Value>"
        f'</env:Subcode></env:Code><env:Reason><env:Text xml:lang="en">{escape(reason)}</env:Text></env:Reason></env:Fault>'
    )


def element(tag: str, content: str = "", **attributes: object) -> str:
    """`<tag a="1">content</tag>`: attribute values escaped here, content is XML already (see `text`)."""
    attrs = "".join(f" {name}={quoteattr(str(value))}" for name, value in attributes.items())
    return f"<{tag}{attrs}>{content}</{tag}>"


def text(tag: str, value: object) -> str:
    """`<tag>value</tag>` with the value escaped."""
    return f"<{tag}>{escape(str(value))}</{tag}>"
