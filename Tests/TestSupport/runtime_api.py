"""A stand-in for Lambda's Runtime API (docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html),
for tests that run a deployment package's bootstrap outside AWS.

The runtime side is the real protocol: GET /2018-06-01/runtime/invocation/next (a long poll that
hands out one invocation with its Lambda-Runtime-* headers), POST .../invocation/ID/response,
POST .../invocation/ID/error and POST /2018-06-01/runtime/init/error. An invocation is handed to
one runtime only, so several bootstraps served at once take different invocations, as Lambda's
concurrent environments do.

The test side: POST /test/invoke?deadline_ms=N with the event as the body enqueues an invocation
and answers, once a runtime has answered it, with {"kind": "response" | "error", "body": ...,
"errorType": ...} ("timeout" when none has within wait_s seconds, default 120); GET /test/init-error gives the last init error (204 when none).
Lambda's Invoke API, for a deploy's migrate call: POST /2015-03-31/functions/NAME/invocations with the
event hands it to a runtime the same way and answers as Lambda does: 200 with the function's answer,
or 200 with X-Amz-Function-Error: Unhandled and the error document (the signature is not checked).
Prints the port it listens on, then serves until killed.
"""
import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PREFIX = "/2018-06-01/runtime"
lock = threading.Condition()
pending = []  # (request_id, deadline_ms, event bytes)
results = {}  # request_id -> dict
init_errors = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = urlparse(self.path).path
        if path == PREFIX + "/invocation/next":
            with lock:
                while not pending:
                    lock.wait()
                request_id, deadline_ms, event = pending.pop(0)
            self.answer(200, event, [
                ("Content-Type", "application/json"),
                ("Lambda-Runtime-Aws-Request-Id", request_id),
                ("Lambda-Runtime-Deadline-Ms", str(deadline_ms)),
                ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:123456789012:function:etl"),
                ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000"),
            ])
        elif path == "/test/init-error":
            with lock:
                error = init_errors[-1] if init_errors else None
            self.answer(200, json.dumps(error).encode()) if error else self.answer(204)
        else:
            self.answer(404, b'{"errorMessage": "no such path"}')

    def do_POST(self):
        url = urlparse(self.path)
        body = self.body()
        if url.path.startswith("/2015-03-31/functions/") and url.path.endswith("/invocations"):
            result = self.invocation(body, 300, 900)
            headers = [("Content-Type", "application/json")]
            if result["kind"] != "response":
                headers.append(("X-Amz-Function-Error", "Unhandled"))
            self.answer(200, result.get("body", "").encode(), headers)
            return
        if url.path == "/test/invoke":
            query = parse_qs(url.query)
            result = self.invocation(body, float(query.get("deadline_s", ["300"])[0]), float(query.get("wait_s", ["120"])[0]))
            self.answer(200, json.dumps(result).encode(), [("Content-Type", "application/json")])
            return
        self.runtime_post(url, body)

    def invocation(self, body, seconds, wait_s):
        """Enqueues one invocation; its result once a runtime answered (or timed out, or failed to start)."""
        request_id = str(uuid.uuid4())
        give_up = time.time() + wait_s
        with lock:
            pending.append((request_id, int((time.time() + seconds) * 1000), body))
            lock.notify_all()
            while request_id not in results and not init_errors and time.time() < give_up:
                lock.wait(timeout=1)
            if request_id in results:
                return results.pop(request_id)
            if init_errors:
                return {"kind": "init_error", **init_errors[-1]}
            return {"kind": "timeout", "body": "no runtime answered the invocation"}

    def runtime_post(self, url, body):
        if url.path == PREFIX + "/init/error":
            with lock:
                init_errors.append({"errorType": self.headers.get("Lambda-Runtime-Function-Error-Type"), "body": body.decode()})
                lock.notify_all()
            self.answer(202, b'{"status": "OK"}')
            return
        parts = url.path[len(PREFIX):].strip("/").split("/")
        if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
            with lock:
                results[parts[1]] = {
                    "kind": parts[2],
                    "body": body.decode(),
                    "errorType": self.headers.get("Lambda-Runtime-Function-Error-Type"),
                }
                lock.notify_all()
            self.answer(202, b'{"status": "OK"}')
            return
        self.answer(404, b'{"errorMessage": "no such path"}')


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
