"""How the local API server reads a request's framing, strictly, as API Gateway's front does.

A request's body is framed by exactly one of: a ``Content-Length`` of decimal digits, or
``Transfer-Encoding: chunked`` (read and decoded here, so the Api function gets the body
whole). Anything else is refused before any route sees it, with a status line and the
API's JSON error shape ({"error", "message", "details"}):

- a ``Content-Length`` that is not decimal digits, or several that differ: 400;
- both ``Content-Length`` and ``Transfer-Encoding`` (a smuggling vector): 400;
- a transfer coding other than ``chunked`` alone: 501; a malformed chunk: 400;
- a body over API Gateway's 10 MB: 413, unread;
- a body that stops short of its length, or chunks that stop coming, for
  ``BODY_TIMEOUT_S``: 400 (the wait is bounded, whatever the client does);
- a request target over 8192 characters (API Gateway's limit for an edge-optimized API):
  414; header lines over 10240 bytes in all (its limit for all headers): 431;
- a request line http.server cannot read (an HTTP/0.9 one, a bad version): 400; a version
  of 2 or above: 505.
"""

from __future__ import annotations

import json
import re
import socket
import time
from http import HTTPStatus
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from email.message import Message
    from io import BufferedIOBase

MAX_PAYLOAD = 10 * 1024 * 1024
"""API Gateway's limit for a request body; the Api function refuses far less (64 KB)."""
MAX_URL = 8192
"""API Gateway's limit, in characters, of the URL of an edge-optimized API."""
MAX_HEADERS = 10240
"""API Gateway's limit, in bytes, of all header names, values and line ends together."""
BODY_TIMEOUT_S = 10.0
"""How long a body may take to arrive in full before the request is refused."""
MAX_CHUNK_LINE = 4096
DIGITS = re.compile(r"[0-9]+")
CHUNK_SIZE = re.compile(r"([0-9A-Fa-f]+)[ \t]*(;.*)?")

# The name each refusal carries, in the API Gateway style of the template's gateway
# responses (REQUEST_TOO_LARGE, MISSING_AUTHENTICATION_TOKEN).
ERROR_NAMES = {
    400: "BAD_REQUEST",
    411: "LENGTH_REQUIRED",
    413: "REQUEST_TOO_LARGE",
    414: "URI_TOO_LONG",
    431: "REQUEST_HEADER_FIELDS_TOO_LARGE",
    500: "INTERNAL_SERVER_ERROR",
    501: "NOT_IMPLEMENTED",
    505: "HTTP_VERSION_NOT_SUPPORTED",
}


class FramingError(Exception):
    """A request the server refuses for its framing; the connection is closed after it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status

    def document(self) -> dict[str, object]:
        return refusal(self.status, str(self))


def refusal(status: int, message: str | None = None) -> dict[str, object]:
    """The JSON error shape of a refusal the server itself makes."""
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
    text = message or phrase
    if len(text) > 200:  # a refusal names the problem; it never echoes 64 KB back
        text = text[:200] + "..."
    return {
        "error": ERROR_NAMES.get(status, phrase.upper().replace(" ", "_")),
        "message": text,
        "details": [],
    }


def refusal_body(status: int, message: str | None = None) -> bytes:
    return json.dumps(refusal(status, message)).encode()


def header_bytes(headers: Message) -> int:
    """The size of the header lines as sent ("Name: value" and CRLF each)."""
    return sum(len(k) + 2 + len(v) + 2 for k, v in headers.items())


def check_headers(headers: Message) -> None:
    if header_bytes(headers) > MAX_HEADERS:
        raise FramingError(431, f"the request's headers are over {MAX_HEADERS} bytes together")


def content_length(headers: Message) -> int | None:
    """The declared body length, None when the body is chunked; refuses what is neither
    one clear length nor chunked alone."""
    lengths = headers.get_all("Content-Length") or []
    codings = [
        coding.strip().lower()
        for value in headers.get_all("Transfer-Encoding") or []
        for coding in value.split(",")
    ]
    if codings:
        if lengths:
            raise FramingError(400, "a request has Content-Length or Transfer-Encoding, not both")
        if codings[-1] != "chunked":
            raise FramingError(400, "a request body's last transfer coding must be chunked")
        if codings != ["chunked"]:
            raise FramingError(501, f"transfer coding {', '.join(codings)} is not supported")
        return None
    values = {value.strip() for value in lengths}
    if len(values) > 1:
        raise FramingError(400, "the request has Content-Length headers that differ")
    if not values:
        return 0
    (value,) = values
    if not DIGITS.fullmatch(value):
        raise FramingError(400, f"Content-Length {value[:40]!r} is not a number of bytes")
    if len(value) > len(str(MAX_PAYLOAD)) or int(value) > MAX_PAYLOAD:
        raise FramingError(413, "Request Too Long")
    return int(value)


class BodyReader:
    """Reads a body from ``stream`` (the connection's buffered reader) within one deadline
    for the whole body, so a client that sends less than it said is answered, not waited
    on for ever."""

    def __init__(
        self, stream: BufferedIOBase, connection: socket.socket, timeout: float = BODY_TIMEOUT_S
    ) -> None:
        self.stream = stream
        self.connection = connection
        self.deadline = time.monotonic() + timeout
        self.timeout = timeout

    def read(self, length: int | None) -> bytes:
        previous = self.connection.gettimeout()
        try:
            return self._exactly(length) if length is not None else self._chunked()
        finally:
            self.connection.settimeout(previous)

    def _wait(self) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self.connection.settimeout(left)

    def _exactly(self, length: int, what: str = "its Content-Length declares") -> bytes:
        parts: list[bytes] = []
        got = 0
        try:
            while got < length:
                self._wait()
                part = self.stream.read1(min(length - got, 65536))
                if not part:
                    break
                parts.append(part)
                got += len(part)
        except TimeoutError:
            pass
        if got < length:
            raise FramingError(
                400,
                f"the body ended after {got} of the {length} bytes {what} "
                f"(waited up to {self.timeout:g} s)",
            )
        return b"".join(parts)

    def _line(self) -> bytes:
        self._wait()
        line = self.stream.readline(MAX_CHUNK_LINE + 1)
        if len(line) > MAX_CHUNK_LINE:
            raise FramingError(400, "a chunk's size line is too long")
        if not line.endswith(b"\r\n"):
            raise FramingError(400, "the chunked body ended before its last chunk")
        return line[:-2]

    def _chunked(self) -> bytes:
        parts: list[bytes] = []
        got = 0
        try:
            while True:
                matched = CHUNK_SIZE.fullmatch(self._line().decode("latin-1"))
                if matched is None:
                    raise FramingError(400, "a chunk's size is not hexadecimal digits")
                size = int(matched.group(1), 16)
                if size == 0:
                    break
                got += size
                if got > MAX_PAYLOAD:
                    raise FramingError(413, "Request Too Long")
                parts.append(self._exactly(size, "its chunk's size declares"))
                if self._line() != b"":
                    raise FramingError(400, "a chunk is longer than its size says")
            for _ in range(100):  # trailer fields, ignored, up to the empty line
                if self._line() == b"":
                    return b"".join(parts)
            raise FramingError(431, "too many trailer fields after the chunked body")
        except TimeoutError:
            raise FramingError(
                400, f"the chunked body did not end within {self.timeout:g} s"
            ) from None
