"""A small web API for the tests of API sources, served on loopback:

    python3 api_server.py

It prints the port it listens on as its first line. `GET /v1/transactions` answers the records it
holds, oldest first, in pages of `page_size`, as `{"data": [...], "meta": {"next_cursor": ...}}`, paged
the way it is told: `cursor` (the `cursor` parameter and `meta.next_cursor`), `link` (an RFC 8288
`Link: <…>; rel="next"` header, `offset` parameter), `page` (`page` and `per_page`, no `meta`), or
`none` (everything at once). `updated_since` keeps records whose `updated_at` is at or after it.
Each record is kept as the text it was given and answered byte for byte.

The test sets it up with `POST /_admin/setup` and a JSON object:

    {"records": ["{...}", ...],          -- each record's JSON text
     "pagination": "cursor",             -- cursor | link | page | none
     "page_size": 2,
     "token": "s3cret",                  -- required as `Authorization: Bearer s3cret` (none: no check)
     "faults": [{"status": 429, "retry_after": "1", "times": 2, "body": "slow down"}],
                                         -- the next requests to /v1 answer these first, in order
     "break_page": 3,                    -- that page's answer is cut off mid-body (a reset connection), once
     "refuse_after": 2}                  -- after that many answers, the next request is refused with 400, once

`GET /_admin/requests` answers every request to /v1 so far: path with query, Authorization header,
the status answered and when (seconds since the epoch).
"""
import http.server
import json
import socket
import threading
import time
import urllib.parse

lock = threading.Lock()
state = {"records": [], "pagination": "cursor", "page_size": 2, "token": None, "faults": [], "break_page": None, "refuse_after": None}
requests = []


def parsed(records):
    return [(text, json.loads(text)) for text in records]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.path == "/_admin/setup":
            with lock:
                state.update(body)
                state["faults"] = [dict(fault, times=fault.get("times", 1)) for fault in state.get("faults", [])]
            return self.answer(200, "{}")
        self.answer(404, "{}")

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/_admin/requests":
            with lock:
                return self.answer(200, json.dumps(requests))
        if url.path != "/v1/transactions":
            return self.answer(404, '{"error": "no such path"}')
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        entry = {"path": self.path, "authorization": self.headers.get("Authorization"), "at": time.time()}
        with lock:
            requests.append(entry)
            if state["token"] and self.headers.get("Authorization") != "Bearer " + state["token"]:
                entry["status"] = 401
                return self.answer(401, '{"error": "bad token"}')
            if state["refuse_after"] is not None:
                if state["refuse_after"] == 0:
                    state["refuse_after"] = None
                    entry["status"] = 400
                    return self.answer(400, '{"error": "refused"}')
                state["refuse_after"] -= 1
            while state["faults"] and state["faults"][0]["times"] <= 0:
                state["faults"].pop(0)
            if state["faults"]:
                fault = state["faults"][0]
                fault["times"] -= 1
                entry["status"] = fault["status"]
                headers = [("Retry-After", fault["retry_after"])] if "retry_after" in fault else []
                return self.answer(fault["status"], json.dumps({"error": fault.get("body", "fault")}), headers)
            records = parsed(state["records"])
            mode, size = state["pagination"], state["page_size"]
        since = query.get("updated_since")
        if since is not None:
            records = [r for r in records if str(r[1].get("updated_at", "")) >= since]
        texts = [text for text, _ in records]
        headers = []
        meta = None
        if mode == "cursor":
            start = int(query.get("cursor", "c0")[1:])
            chunk = texts[start:start + size]
            following = start + size
            meta = {"next_cursor": "c%d" % following if following < len(texts) else None}
            number = start // size + 1
        elif mode == "link":
            start = int(query.get("offset", "0"))
            chunk = texts[start:start + size]
            number = start // size + 1
            if start + size < len(texts):
                rest = {k: v for k, v in query.items() if k != "offset"}
                rest["offset"] = str(start + size)
                headers.append(("Link", '</v1/transactions?%s>; rel="next", </v1/transactions>; rel="first"' % urllib.parse.urlencode(rest)))
        elif mode == "page":
            number = int(query.get("page", "1"))
            per_page = int(query.get("per_page", str(size)))
            chunk = texts[(number - 1) * per_page:number * per_page]
        else:
            chunk, number = texts, 1
        body = '{"data": [' + ", ".join(chunk) + "]" + (', "meta": ' + json.dumps(meta) if meta is not None else "") + "}"
        entry["status"] = 200
        with lock:
            broken = state.get("break_page") == number
            if broken:
                state["break_page"] = None
        if broken:
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self.answer(200, body, headers)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
