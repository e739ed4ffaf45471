#!/usr/bin/env python3
"""An HTTP proxy in front of an S3-compatible server that answers some requests with S3 errors, for tests of
retries and of how a final failure is reported.

    scripts/s3_fault_proxy.py PORT UPSTREAM_URL [--every N] [--per-path K] [--status 503] [--code SlowDown] [--delay S]

Listens on 127.0.0.1:PORT and forwards every request to UPSTREAM_URL (a server on this machine, moto in the
tests) byte for byte, except each N-th one (counting from the first), which it answers itself with STATUS
and an S3 error document carrying CODE, after waiting S seconds (a slow server). --every 1 fails them all.
A path fails at most K times (--per-path; 2 by default when N > 1): with concurrent requests, one request's
retries could otherwise all land on failing turns, and a client that retries 4 times must be able to pass.
`GET /__faults` (no bucket can have that name) answers the counts as JSON: {"requests": R, "faults": F}.
Nothing leaves the machine: the upstream must be a loopback address. Stops on SIGTERM/SIGINT.
"""
import argparse
import http.client
import http.server
import json
import sys
import threading
import time
import urllib.parse

MESSAGES = {
    "SlowDown": "Please reduce your request rate.",
    "InternalError": "We encountered an internal error. Please try again.",
    "ServiceUnavailable": "Reduce your request rate.",
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("upstream")
    ap.add_argument("--every", type=int, default=3)
    ap.add_argument("--status", type=int, default=503)
    ap.add_argument("--code", default="SlowDown")
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--per-path", type=int, default=None)
    args = ap.parse_args()
    up = urllib.parse.urlsplit(args.upstream)
    if up.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("s3_fault_proxy: the upstream must be on loopback")
    lock = threading.Lock()
    counts = {"requests": 0, "faults": 0}
    per_path = args.per_path if args.per_path is not None else (2 if args.every > 1 else 0)
    faults_of = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def reply(self, status, body, content_type="application/xml"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if self.path == "/__faults":
                with lock:
                    return self.reply(200, json.dumps(counts).encode(), "application/json")
            with lock:
                counts["requests"] += 1
                fault = args.every > 0 and counts["requests"] % args.every == (1 % args.every)
                if fault and per_path > 0 and faults_of.get(self.path, 0) >= per_path:
                    fault = False
                if fault:
                    counts["faults"] += 1
                    faults_of[self.path] = faults_of.get(self.path, 0) + 1
            if fault:
                time.sleep(args.delay)
                doc = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>%s</Code><Message>%s</Message>"
                       "<RequestId>acp-fault-%d</RequestId></Error>" % (args.code, MESSAGES.get(args.code, "Injected fault."), counts["faults"]))
                return self.reply(args.status, doc.encode())
            conn = http.client.HTTPConnection(up.hostname, up.port or 80, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "transfer-encoding")}
            conn.request(self.command, self.path, body=body, headers=headers)
            r = conn.getresponse()
            self.send_response(r.status)
            data_length = r.getheader("Content-Length")
            for k, v in r.getheaders():
                if k.lower() not in ("connection", "transfer-encoding", "content-length", "server", "date"):
                    self.send_header(k, v)
            if data_length is None:
                data = r.read()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            else:
                self.send_header("Content-Length", data_length)
                self.end_headers()
                while True:
                    chunk = r.read(65536)
                    if not chunk:
                        break
                    self.wfile.write(chunk)
            conn.close()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print("listening on 127.0.0.1:%d" % args.port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
