"""A fault-injecting HTTP proxy for the tests: forwards every request, byte for byte and with its
signature intact, to an S3 endpoint (moto_server), and damages the answers it is told to.

    python3 fault_proxy.py UPSTREAM_PORT PORT_FILE

It writes the port it listens on to PORT_FILE. Faults are set with `POST /__faults__` and a JSON
list of rules, each applied to the next `times` matching requests (default 1):

    {"op": "get" | "list" | "put" | "any", "key": "substring of the path", "times": 1,
     "kind": "truncate"   -- half the body, Content-Length rewritten to match, ETag and checksums kept
           | "bitflip"    -- `bits` single-bit flips (default 5), same length and headers
           | "reset"      -- headers and `after` body bytes (default half), then a TCP reset
           | "stall"      -- headers and `after` body bytes, then silence for `seconds`, then a close
           | "stall-head" -- nothing for `seconds` before the response head, then the clean answer
           | "throttle"   -- 503 SlowDown for every match during `seconds` (times is ignored)
           | "status"     -- answer `status` with error `code`
    }

`GET /__faults__` answers how many faults of each kind were injected so far. `DELETE /__faults__`
clears the rules.
"""
import http.client
import http.server
import json
import socket
import struct
import sys
import threading
import time

UPSTREAM = ("127.0.0.1", int(sys.argv[1]))
lock = threading.Lock()
rules = []
injected = {}
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}


def operation(method, path):
    if method == "GET" and "list-type=2" in path:
        return "list"
    if method == "GET":
        return "get"
    if method == "PUT":
        return "put"
    return "other"


def take_rule(method, path):
    """The first rule matching this request, used up by one (throttles last for their window)."""
    with lock:
        for rule in rules:
            if rule.get("op", "any") not in ("any", operation(method, path)):
                continue
            if rule.get("key") and rule["key"] not in path:
                continue
            if rule["kind"] == "throttle":
                started = rule.setdefault("started", time.monotonic())
                if time.monotonic() - started > rule.get("seconds", 10):
                    continue
            elif rule.get("times", 1) <= 0:
                continue
            else:
                rule["times"] = rule.get("times", 1) - 1
            injected[rule["kind"]] = injected.get(rule["kind"], 0) + 1
            return dict(rule)
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def control(self):
        global rules
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with lock:
            if self.command == "POST":
                rules = json.loads(body or b"[]")
            elif self.command == "DELETE":
                rules = []
            answer = json.dumps(injected).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        upstream = http.client.HTTPConnection(*UPSTREAM, timeout=60)
        headers = {name: value for name, value in self.headers.items() if name.lower() != "connection"}
        upstream.request(self.command, self.path, body=body, headers=headers)
        response = upstream.getresponse()
        data = response.read()
        kept = [(name, value) for name, value in response.getheaders() if name.lower() not in HOP_BY_HOP]
        upstream.close()
        return response.status, kept, data

    def answer(self, status, headers, data, length=None):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data) if length is None else length))
        self.end_headers()

    def handle_any(self):
        if self.path.startswith("/__faults__"):
            return self.control()
        rule = take_rule(self.command, self.path)
        kind = rule["kind"] if rule else None
        if kind == "throttle":
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            error = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
            self.answer(503, [("Content-Type", "application/xml")], error)
            self.wfile.write(error)
            return
        if kind == "status":
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            error = ("<Error><Code>%s</Code><Message>injected</Message></Error>" % rule.get("code", "InternalError")).encode()
            self.answer(rule.get("status", 500), [("Content-Type", "application/xml")], error)
            self.wfile.write(error)
            return
        if kind == "stall-head":
            time.sleep(rule.get("seconds", 5))
        status, headers, data = self.forward()
        if kind == "truncate" and len(data) > 1:
            data = data[: len(data) // 2]
        elif kind == "bitflip" and data:
            flipped = bytearray(data)
            for index in range(rule.get("bits", 5)):
                position = (len(flipped) * (2 * index + 1)) // (2 * rule.get("bits", 5))
                flipped[position] ^= 1 << (index % 8)
            data = bytes(flipped)
        elif kind in ("reset", "stall"):
            after = min(rule.get("after", len(data) // 2), len(data))
            self.answer(status, headers, data, length=len(data))
            self.wfile.write(data[:after])
            self.wfile.flush()
            if kind == "stall":
                time.sleep(rule.get("seconds", 5))
            else:
                # SO_LINGER with a zero timeout: close() sends RST, not FIN.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        self.answer(status, headers, data)
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(sys.argv[2], "w") as port_file:
    port_file.write(str(server.server_address[1]))
server.serve_forever()
