#!/usr/bin/env python3
"""The Lambda Runtime API, enough to run the real function binary on this machine.

The function (`rootsweep-lambda`, built with the `lambda_runtime` crate) polls
`GET /2018-06-01/runtime/invocation/next` and posts its answer to
`.../invocation/{id}/response` (or `/error`), as it does on AWS Lambda
(https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html). This server hands it the
events posted to `POST /invoke` one at a time and answers each `/invoke` with the function's
response: the demo's `aws lambda invoke`.

Usage: lambda_runtime.py PORT_FILE FUNCTION_ARN [TIMEOUT_SECONDS]
(writes the port it listens on to PORT_FILE; each invocation's deadline is TIMEOUT_SECONDS away,
900 by default, the template's function timeout)
"""

import queue
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"
TIMEOUT_SECONDS = 900

events: "queue.Queue[tuple[str, bytes]]" = queue.Queue()
answers: dict[str, "queue.Queue[tuple[int, bytes]]"] = {}


class Runtime(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != f"{PREFIX}/invocation/next":
            return self.reply(404, b'{"errorMessage": "unknown path"}')
        request_id, event = events.get()
        deadline_ms = int((time.time() + TIMEOUT_SECONDS) * 1000)
        self.reply(200, event, {
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN,
            "Lambda-Runtime-Trace-Id": f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}",
        })

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/invoke":
            request_id = str(uuid.uuid4())
            answer_queue = answers[request_id] = queue.Queue()
            events.put((request_id, body))
            status, answer = answer_queue.get()
            del answers[request_id]
            return self.reply(status, answer)
        parts = self.path.removeprefix(f"{PREFIX}/invocation/").split("/")
        if len(parts) == 2 and parts[0] in answers and parts[1] in ("response", "error"):
            answers[parts[0]].put((200 if parts[1] == "response" else 500, body))
            return self.reply(202, b'{"status": "OK"}')
        if self.path == f"{PREFIX}/init/error":
            sys.stderr.write(f"the function failed to start: {body.decode()}\n")
            return self.reply(202, b'{"status": "OK"}')
        self.reply(404, b'{"errorMessage": "unknown path"}')

    def reply(self, status, body, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port_file, FUNCTION_ARN = sys.argv[1], sys.argv[2]
    if len(sys.argv) > 3:
        TIMEOUT_SECONDS = int(sys.argv[3])
    server = ThreadingHTTPServer(("127.0.0.1", 0), Runtime)
    with open(port_file, "w") as f:
        f.write(str(server.server_address[1]))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    threading.Event().wait()
