"""Hostile HTTP framing against the local API server, over a raw socket: lengths that are
not lengths, bodies shorter than declared, chunked bodies, and the requests http.server
itself refuses (414, 431, 400, 505). Each gets a status line and the API's JSON error
shape, and nothing is written."""

from __future__ import annotations

import json
import socket
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from local_runtime.emulator.http_framing import MAX_HEADERS, MAX_URL
from order_saga.service_layer.ids import order_id_for
from tests.e2e.conftest import ADDRESS

if TYPE_CHECKING:
    from local_runtime.emulator.api_gateway import LocalApiServer


@dataclass
class Answer:
    status_line: str
    headers: dict[str, str]
    body: bytes

    @property
    def status(self) -> int:
        return int(self.status_line.split()[1])

    def json(self) -> Any:
        return json.loads(self.body)


def exchange(
    server: LocalApiServer, raw: bytes, *, half_close: bool = False, timeout: float = 30
) -> Answer:
    """Send ``raw`` as is and read one answer (status line, headers, Content-Length bytes)."""
    host, port = server.server_address[:2]
    with socket.create_connection((str(host), port), timeout=timeout) as connection:
        connection.sendall(raw)
        if half_close:
            connection.shutdown(socket.SHUT_WR)
        received = b""
        while b"\r\n\r\n" not in received:
            part = connection.recv(65536)
            if not part:
                raise AssertionError(f"the connection closed with no answer: {received!r}")
            received += part
        head, _, body = received.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            part = connection.recv(65536)
            if not part:
                break
            body += part
        return Answer(status_line, headers, body)


def order_body(**changes: Any) -> bytes:
    return json.dumps(
        {
            "items": [{"product_id": "sku-espresso-beans", "quantity": 1}],
            "shipping_address": ADDRESS,
            "payment_method": "tok_visa",
            **changes,
        }
    ).encode()


def post(headers: list[str], body: bytes = b"", target: str = "/orders") -> bytes:
    lines = [f"POST {target} HTTP/1.1", "Host: 127.0.0.1", "X-Customer-Id: cust-framing"]
    lines += ["Content-Type: application/json", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


BODY = order_body()
FRAMING = {
    "a length that is not a number": (post(["Content-Length: abc"], BODY), 400, "BAD_REQUEST"),
    "a negative length": (post(["Content-Length: -1"], BODY), 400, "BAD_REQUEST"),
    "a signed length": (post([f"Content-Length: +{len(BODY)}"], BODY), 400, "BAD_REQUEST"),
    "two lengths that differ": (
        post([f"Content-Length: {len(BODY)}", "Content-Length: 3"], BODY),
        400,
        "BAD_REQUEST",
    ),
    "a length and chunked": (
        post([f"Content-Length: {len(BODY)}", "Transfer-Encoding: chunked"], BODY),
        400,
        "BAD_REQUEST",
    ),
    "a 30-digit length": (post(["Content-Length: " + "9" * 30], BODY), 413, "REQUEST_TOO_LARGE"),
    "gzip, not chunked": (post(["Transfer-Encoding: gzip"], BODY), 400, "BAD_REQUEST"),
    "gzip then chunked": (
        post(["Transfer-Encoding: gzip, chunked"], b"0\r\n\r\n"),
        501,
        "NOT_IMPLEMENTED",
    ),
    "a chunk size that is not hexadecimal": (
        post(["Transfer-Encoding: chunked"], b"zz\r\n{}\r\n0\r\n\r\n"),
        400,
        "BAD_REQUEST",
    ),
    "a chunk longer than its size": (
        post(["Transfer-Encoding: chunked"], b"2\r\n{}}}\r\n0\r\n\r\n"),
        400,
        "BAD_REQUEST",
    ),
    "a URL over API Gateway's limit": (
        f"GET /orders/{'o' * MAX_URL} HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
        414,
        "URI_TOO_LONG",
    ),
    "a request line over http.server's 64 KB": (
        f"GET /{'o' * 70_000} HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
        414,
        "URI_TOO_LONG",
    ),
    "headers over API Gateway's limit": (
        f"GET /products HTTP/1.1\r\nX-Pad: {'p' * MAX_HEADERS}\r\n\r\n".encode(),
        431,
        "REQUEST_HEADER_FIELDS_TOO_LARGE",
    ),
    "a header line over http.server's 64 KB": (
        f"GET /products HTTP/1.1\r\nX-Pad: {'p' * 70_000}\r\n\r\n".encode(),
        431,
        "REQUEST_HEADER_FIELDS_TOO_LARGE",
    ),
    "101 headers": (
        (
            "GET /products HTTP/1.1\r\n" + "".join(f"X-{n}: n\r\n" for n in range(101)) + "\r\n"
        ).encode(),
        431,
        "REQUEST_HEADER_FIELDS_TOO_LARGE",
    ),
    "a bad HTTP version": (b"GET /products HTTP/x.y\r\n\r\n", 400, "BAD_REQUEST"),
    "no HTTP version (HTTP/0.9)": (b"GET /products\r\n\r\n", 400, "BAD_REQUEST"),
    "a request line of four words": (b"GET /products a HTTP/1.1\r\n\r\n", 400, "BAD_REQUEST"),
    "HTTP/2.0 in plain text": (
        b"GET /products HTTP/2.0\r\n\r\n",
        505,
        "HTTP_VERSION_NOT_SUPPORTED",
    ),
}


@pytest.mark.usefixtures("nothing_written")
@pytest.mark.parametrize(("raw", "status", "error"), list(FRAMING.values()), ids=list(FRAMING))
def test_the_server_refuses_bad_framing_with_a_status_line_and_the_json_error_shape(
    api_server: LocalApiServer, raw: bytes, status: int, error: str
) -> None:
    answer = exchange(api_server, raw)

    assert answer.status_line.startswith(f"HTTP/1.1 {status} "), answer.status_line
    assert answer.headers["content-type"] == "application/json"
    document = answer.json()
    assert (document["error"], document["details"]) == (error, [])
    assert 0 < len(document["message"]) < 300  # it names the problem, it echoes nothing back


@pytest.mark.usefixtures("nothing_written")
def test_a_body_shorter_than_its_length_is_refused_after_a_bounded_wait(
    api_server: LocalApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api_server, "body_timeout", 0.5)

    # the client keeps the connection open and sends no more: the server stops waiting
    answer = exchange(api_server, post([f"Content-Length: {len(BODY) + 50}"], BODY))

    assert answer.status == 400
    assert answer.json()["error"] == "BAD_REQUEST"
    assert f"after {len(BODY)} of the {len(BODY) + 50} bytes" in answer.json()["message"]


@pytest.mark.usefixtures("nothing_written")
def test_a_body_cut_short_by_the_client_closing_is_refused_not_processed_short(
    api_server: LocalApiServer,
) -> None:
    answer = exchange(
        api_server, post([f"Content-Length: {len(BODY) + 50}"], BODY), half_close=True
    )

    assert (answer.status, answer.json()["error"]) == (400, "BAD_REQUEST")


def test_a_chunked_body_is_read_whole(api_server: LocalApiServer) -> None:
    key = f"chunked-{uuid.uuid4().hex[:8]}"
    order_id = order_id_for("cust-framing", key)
    body = order_body()
    chunks = b"".join(
        f"{len(body[i : i + 40]):x}\r\n".encode() + body[i : i + 40] + b"\r\n"
        for i in range(0, len(body), 40)
    )

    answer = exchange(
        api_server,
        post(["Transfer-Encoding: chunked", f"Idempotency-Key: {key}"], chunks + b"0\r\n\r\n"),
    )

    assert answer.status == 202, answer.body
    assert answer.json()["order_id"] == order_id
    api_server.runtime.wait(order_id)


def test_the_same_length_twice_is_one_length(api_server: LocalApiServer) -> None:
    answer = exchange(
        api_server,
        post([f"Content-Length: {len(b'{}')}", f"Content-Length: {len(b'{}')}"], b"{}"),
    )

    # the body was read as its two bytes: the API itself validates it
    assert (answer.status, answer.json()["error"]) == (422, "InvalidRequest")


@pytest.mark.parametrize("sent", ["cust-spaces", " cust-spaces", "cust-spaces ", "\tcust-spaces\t"])
def test_a_header_value_is_read_without_the_whitespace_around_it_on_either_side(
    api_server: LocalApiServer, sent: str
) -> None:
    answer = exchange(
        api_server, f"GET /products?limit=1 HTTP/1.1\r\nX-Customer-Id:{sent}\r\n\r\n".encode()
    )

    assert answer.status == 200, answer.body
