#!/usr/bin/env python3
"""The lab's HTTP server (scripts/lab starts it): python3 lab-http.py PORT DIR

GET /health/SITE answers with the status written in DIR/SITE.status (200 when the file is
missing) and a body naming the site and status.

GET /app/SITE is the sites' application, under steady traffic from this process itself (a few
clients a site, each a request every 100 ms or so): it answers 200, or, for the fraction written in
DIR/SITE.errors (like "503 0.3"), that status; and it waits the seconds written in DIR/SITE.slow
first. Every request to it is counted by site and status, and timed, in GET /metrics (Prometheus
text format): lab_http_requests_total{site,code} and the histogram
lab_http_request_duration_seconds{site}. Anything else is 404. Stops on SIGTERM.
"""
import http.client, http.server, os, random, re, signal, sys, threading, time

port, folder = int(sys.argv[1]), sys.argv[2]
SITES = ("eu", "us")
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0)

# A parent may start us with signals blocked: unblock SIGTERM and leave at once when it comes.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))

lock = threading.Lock()
# Both statuses counted from 0, so that an error rate is 0 (not "no data") before any error.
requests = {(site, code): 0 for site in SITES for code in ("200", "503")}
buckets = {site: [0] * len(BUCKETS) for site in SITES}
durations = {site: [0.0, 0] for site in SITES}  # sum, count


def setting(site, what):
    try:
        with open(os.path.join(folder, f"{site}.{what}")) as f:
            return f.read().split()
    except OSError:
        return []


def observe(site, code, seconds):
    with lock:
        requests[(site, code)] = requests.get((site, code), 0) + 1
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                buckets[site][i] += 1
        durations[site][0] += seconds
        durations[site][1] += 1


def metrics():
    out = ["# HELP lab_http_requests_total Requests to /app/SITE, by site and status.", "# TYPE lab_http_requests_total counter"]
    with lock:
        for (site, code), n in sorted(requests.items()):
            out.append(f'lab_http_requests_total{{site="{site}",code="{code}"}} {n}')
        out += ["# HELP lab_http_request_duration_seconds Time to answer /app/SITE.", "# TYPE lab_http_request_duration_seconds histogram"]
        for site in SITES:
            for bound, n in zip(BUCKETS, buckets[site]):
                out.append(f'lab_http_request_duration_seconds_bucket{{site="{site}",le="{bound}"}} {n}')
            out.append(f'lab_http_request_duration_seconds_bucket{{site="{site}",le="+Inf"}} {durations[site][1]}')
            out.append(f'lab_http_request_duration_seconds_sum{{site="{site}"}} {durations[site][0]:.6f}')
            out.append(f'lab_http_request_duration_seconds_count{{site="{site}"}} {durations[site][1]}')
    return ("\n".join(out) + "\n").encode()


class Handler(http.server.BaseHTTPRequestHandler):
    # Connections are kept open (every answer has its length): the clients below hold one each
    # instead of a new one a request, which would churn through the machine's ephemeral ports,
    # where the lab's own ports lie.
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        content = "text/plain"
        health = re.fullmatch(r"/health/([a-z0-9-]+)", self.path)
        app = re.fullmatch(r"/app/(eu|us)", self.path)
        if health:
            site = health.group(1)
            try:
                status = int(setting(site, "status")[0])
            except (IndexError, ValueError):
                status = 200
            word = "ok" if status < 400 else "unavailable"
            body = f"{site} {word} status={status}\n".encode()
        elif app:
            site, start = app.group(1), time.monotonic()
            slow = setting(site, "slow")
            if slow:
                time.sleep(float(slow[0]))
            errors = setting(site, "errors")
            status = 200
            if len(errors) == 2 and random.random() < float(errors[1]):
                status = int(errors[0])
            body = f"{site} app status={status}\n".encode()
            observe(site, str(status), time.monotonic() - start)
        elif self.path == "/metrics":
            status, body, content = 200, metrics(), "text/plain; version=0.0.4"
        else:
            status, body = 404, b"not found\n"
        self.send_response(status)
        self.send_header("Content-Type", content)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def client(site):
    """One client of a site's application: a request, a pause, for ever, on one connection."""
    connection = None
    while True:
        try:
            connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", f"/app/{site}")
            connection.getresponse().read()
        except (http.client.HTTPException, OSError):
            if connection:
                connection.close()
            connection = None
        time.sleep(0.1)


http.server.ThreadingHTTPServer.allow_reuse_address = True
http.server.ThreadingHTTPServer.daemon_threads = True
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
for site in SITES:
    for _ in range(3):
        threading.Thread(target=client, args=(site,), daemon=True).start()
server.serve_forever()
