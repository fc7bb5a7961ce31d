#!/usr/bin/env python3
"""A health endpoint for the tests, on 127.0.0.1: python3 health-server.py PORTFILE STATUSFILE

Binds a free port and writes it to PORTFILE. Every GET answers with the status written in
STATUSFILE (200 when the file is missing) and a body naming it; GET /slow waits 3 s first;
GET /big answers 200 KiB ("big-start", filler, "big-end").
Stops on SIGTERM, and by itself after 120 s.
"""
import http.server, os, signal, sys, threading, time

port_file, status_file = sys.argv[1], sys.argv[2]

# A parent may start us with signals blocked (threads of a test runner often block them): unblock
# SIGTERM and leave at once when it comes.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/slow":
            time.sleep(3)
        try:
            status = int(open(status_file).read().strip())
        except (OSError, ValueError):
            status = 200
        body = ("ok" if status < 400 else "unavailable").encode() + b" status=%d\n" % status
        if self.path == "/big":
            body = b"big-start " + b"x" * (200 * 1024 - 18) + b" big-end"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
threading.Timer(120, server.shutdown).start()
server.serve_forever()
