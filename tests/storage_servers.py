"""Real servers on loopback for the storage tests: no mocked client.

- ``RangeServer``: an HTTP server of a folder's files with Range support
  (206 Partial Content), counting the body bytes it sends; faults on
  request: reset the next N connections, 403 for a path, Basic auth.
- ``S3Server``: moto in server mode (``ThreadedMotoServer``, S3 over HTTP)
  behind ``S3Front``, a reverse proxy of ours that counts the body bytes
  of the GETs it forwards (the server's own count of what a build read),
  resets the requests a rule matches (a fault mid-upload), and can be
  killed and brought back on the same port while moto, behind it, keeps
  its buckets and unfinished uploads, as an S3 endpoint does across a
  restart.  ``client()`` is a boto3 client straight to moto, for setting
  up and checking.

Everything listens on 127.0.0.1 only.
"""
from __future__ import annotations

import base64
import http.client
import logging
import os
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, List, Optional

LOOPBACK = "127.0.0.1"
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler, owner):
        self.owner = owner
        self.connections: List[socket.socket] = []
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        self.connections.append(request)
        super().process_request(request, client_address)

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up (our reader refusing a whole-file answer, a
        cut connection) is part of the tests, not an error to print."""
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, OSError)):
            super().handle_error(request, client_address)

    def kill(self) -> None:
        """Stop listening and cut every open connection at once (RST)."""
        self.shutdown()
        self.server_close()
        for conn in self.connections:
            try:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                conn.close()
            except OSError:
                pass


def _reset(handler: BaseHTTPRequestHandler) -> None:
    """Drop the client's connection without an answer (a reset)."""
    handler.close_connection = True
    try:
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        handler.connection.close()
    except OSError:
        pass


class _Quiet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:   # no access log on stderr
        pass


# -- HTTP with ranges ----------------------------------------------------------------------


class _RangeHandler(_Quiet):
    def do_HEAD(self):  # noqa: N802
        self._answer(head=True)

    def do_GET(self):  # noqa: N802
        self._answer(head=False)

    def _answer(self, head: bool) -> None:
        owner: RangeServer = self.server.owner
        owner.requests.append((self.command, self.path, self.headers.get("Range")))
        if owner.take_reset():
            return _reset(self)
        path = self.path.split("?", 1)[0].lstrip("/")
        if path in owner.denied or not owner.authorized(self.headers.get("Authorization")):
            return self._status(403 if path in owner.denied else 401)
        file = owner.folder / path
        if not file.is_file():
            return self._status(404)
        size = file.stat().st_size
        start, end = 0, size
        match = re.match(r"bytes=(\d+)-(\d*)$", self.headers.get("Range") or "") if owner.ranges else None
        self.send_response(206 if match else 200)
        if match:
            start, end = int(match.group(1)), min(size, int(match.group(2) or size - 1) + 1)
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", f'"{int(file.stat().st_mtime_ns)}-{size}"')
        self.send_header("Content-Length", str(end - start))
        self.end_headers()
        if not head:
            with open(file, "rb") as f:
                f.seek(start)
                data = f.read(end - start)
            owner.add_sent(len(data))
            self.wfile.write(data)

    def _status(self, code: int) -> None:
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()


class RangeServer:
    """The files of ``folder`` over HTTP with Range support, on loopback."""

    def __init__(self, folder: Path, user: Optional[str] = None, password: Optional[str] = None):
        self.folder = Path(folder)
        self.credentials = f"{user}:{password}" if user is not None else None
        self.denied = set()
        self.ranges = True          # False: a server that ignores Range and sends whole files
        self.requests: list = []
        self.bytes_sent = 0
        self._resets = 0
        self._lock = threading.Lock()
        self._server = _Server((LOOPBACK, 0), _RangeHandler, self)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, name: str, auth: str = "") -> str:
        return f"http://{auth + '@' if auth else ''}{LOOPBACK}:{self.port}/{name}"

    def authorized(self, header: Optional[str]) -> bool:
        if self.credentials is None:
            return True
        return header == "Basic " + base64.b64encode(self.credentials.encode()).decode()

    def add_sent(self, n: int) -> None:
        with self._lock:
            self.bytes_sent += n

    def reset_next(self, n: int) -> None:
        with self._lock:
            self._resets = n

    def take_reset(self) -> bool:
        with self._lock:
            if self._resets > 0:
                self._resets -= 1
                return True
            return False

    def clear_counts(self) -> None:
        with self._lock:
            self.bytes_sent = 0
            self.requests.clear()

    def close(self) -> None:
        self._server.kill()


# -- S3: moto behind a front of ours -----------------------------------------------------------


class _FrontHandler(_Quiet):
    def do_GET(self):  # noqa: N802
        self._forward()

    do_HEAD = do_PUT = do_POST = do_DELETE = do_GET

    def _forward(self) -> None:
        front: S3Front = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        request = f"{self.command} {self.path}"
        if front.killed.is_set():       # dying: what still gets through is cut
            return _reset(self)
        front.seen.append(request)
        rule = front.match(request)
        if rule == "reset":
            return _reset(self)
        if rule == "kill":
            _reset(self)
            return front.kill(from_request=True)
        upstream = http.client.HTTPConnection(LOOPBACK, front.upstream_port, timeout=60)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
            upstream.request(self.command, self.path, body=body, headers=headers)
            reply = upstream.getresponse()
            data = reply.read()
        finally:
            upstream.close()
        if self.command == "GET":
            front.add_sent(len(data))
        self.send_response(reply.status)
        for key, value in reply.getheaders():
            if key.lower() not in HOP_HEADERS and (key.lower() != "content-length" or self.command == "HEAD"):
                self.send_header(key, value)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


class S3Front:
    """A reverse proxy before moto: counts, faults, and a kill switch."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.seen: List[str] = []
        self.bytes_sent = 0
        self.rules: List[list] = []     # [pattern, action, times left]
        self.revive_after: Optional[float] = None
        self.killed = threading.Event()
        self._lock = threading.Lock()
        self._server = _Server((LOOPBACK, 0), _FrontHandler, self)
        self.port = self._server.server_address[1]
        self._serve()

    def _serve(self) -> None:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def add_sent(self, n: int) -> None:
        with self._lock:
            self.bytes_sent += n

    def fail(self, pattern: str, action: str = "reset", times: int = 10 ** 9) -> None:
        """Requests matching ``pattern`` (a regex on "METHOD /path?query") get
        ``action``: "reset" (no answer), or "kill" (the whole front dies)."""
        with self._lock:
            self.rules.append([re.compile(pattern), action, times])

    def match(self, request: str) -> Optional[str]:
        with self._lock:
            for rule in self.rules:
                if rule[2] > 0 and rule[0].search(request):
                    rule[2] -= 1
                    return rule[1]
        return None

    def kill(self, from_request: bool = False) -> None:
        """Cut every connection and stop listening; back after ``revive_after`` seconds if set."""
        self.killed.set()

        def die():
            self._server.kill()
            if self.revive_after is not None:
                time.sleep(self.revive_after)
                self.revive()

        if from_request:    # shutdown() waits for serve_forever: not from a handler thread
            threading.Thread(target=die, daemon=True).start()
        else:
            die()

    def revive(self) -> None:
        """Listen again on the same port; moto behind kept everything."""
        deadline = time.monotonic() + 10
        while True:
            try:
                self._server = _Server((LOOPBACK, self.port), _FrontHandler, self)
                break
            except OSError:     # the port is held until the cut connections are gone
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self._serve()
        self.killed.clear()

    def reset(self) -> None:
        with self._lock:
            self.rules.clear()
            self.seen.clear()
            self.bytes_sent = 0
            self.revive_after = None

    def close(self) -> None:
        if not self.killed.is_set():
            self._server.kill()


class S3Server:
    """moto's S3 on loopback, reached through an ``S3Front``."""

    def __init__(self):
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.moto = ThreadedMotoServer(ip_address=LOOPBACK, port=0, verbose=False)
        self.moto.start()
        self.moto_port = self.moto.get_host_and_port()[1]
        self.front = S3Front(self.moto_port)
        self.endpoint = f"http://{LOOPBACK}:{self.front.port}"
        self.direct_endpoint = f"http://{LOOPBACK}:{self.moto_port}"

    def client(self):
        """boto3 straight to moto (not through the front): for setting up and checking."""
        import boto3

        return boto3.client("s3", endpoint_url=self.direct_endpoint, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def environment(self) -> dict:
        """What a user would export to reach this store."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}

    def set_auth(self, checked: bool) -> None:
        """moto checks credentials (unknown keys get 403) or lets everything through."""
        import urllib.request

        value = b"0" if checked else b"inf"
        urllib.request.urlopen(urllib.request.Request(f"{self.direct_endpoint}/moto-api/reset-auth", data=value,
                                                      headers={"Content-Type": "text/plain"}, method="POST"),
                               timeout=30).read()

    def unfinished_uploads(self, bucket: str) -> list:
        return self.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])

    def keys(self, bucket: str) -> List[str]:
        return sorted(o["Key"] for o in self.client().list_objects_v2(Bucket=bucket).get("Contents", []))

    def close(self) -> None:
        self.front.close()
        self.moto.stop()


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def storage_env(monkeypatch, server: S3Server) -> None:
    """The AWS variables of ``server`` set for this test (and the Dask workers it starts)."""
    for key, value in server.environment().items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
