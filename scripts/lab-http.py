#!/usr/bin/env python3
"""The lab's HTTP health endpoints (scripts/lab starts it): python3 lab-http.py PORT DIR

GET /health/SITE answers with the status written in DIR/SITE.status (200 when the file is
missing) and a body naming the site and status; anything else is 404. Stops on SIGTERM.
"""
import http.server, os, re, signal, sys

port, folder = int(sys.argv[1]), sys.argv[2]

# A parent may start us with signals blocked: unblock SIGTERM and leave at once when it comes.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        match = re.fullmatch(r"/health/([a-z0-9-]+)", self.path)
        if not match:
            status, body = 404, b"not found\n"
        else:
            site = match.group(1)
            try:
                with open(os.path.join(folder, site + ".status")) as f:
                    status = int(f.read().strip())
            except (OSError, ValueError):
                status = 200
            word = "ok" if status < 400 else "unavailable"
            body = f"{site} {word} status={status}\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer.allow_reuse_address = True
http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
