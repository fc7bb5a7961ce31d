#!/usr/bin/env python3
"""The lab's NATS JetStream client (scripts/lab runs it): the NATS text protocol over TCP, no
library, enough to set up and move the lab's CSR_EVENTS stream.

  lab-nats.py PORT create STREAM SUBJECT      create the stream (file storage) if it is not there
  lab-nats.py PORT publish SUBJECT N          publish N messages, each acknowledged by JetStream
  lab-nats.py PORT copy STREAM TO_PORT        a restore: every message of STREAM, read one by one
                                              ($JS.API.STREAM.MSG.GET), published to the same
                                              subject at TO_PORT's server (what `nats stream backup`
                                              and `restore` carry from one site to the other)
  lab-nats.py PORT purge STREAM               remove every message of STREAM (a site that lost them)

Exits 1 with one line on stderr when the server answers with an error.
"""
import base64, json, socket, sys


class Client:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        self.line()  # INFO
        self.sock.sendall(b'CONNECT {"verbose":false,"pedantic":false,"headers":false,"name":"lab"}\r\nSUB _INBOX.lab.* 1\r\n')
        self.n = 0

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise SystemExit("lab-nats: the server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read(self, n):
        while len(self.buf) < n + 2:
            self.buf += self.sock.recv(65536)
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def request(self, subject, payload):
        """Publishes with a reply subject and returns the reply's payload (PINGs answered)."""
        self.n += 1
        inbox = f"_INBOX.lab.{self.n}"
        self.sock.sendall(f"PUB {subject} {inbox} {len(payload)}\r\n".encode() + payload + b"\r\n")
        while True:
            line = self.line()
            if line == b"PING":
                self.sock.sendall(b"PONG\r\n")
            elif line.startswith(b"-ERR"):
                raise SystemExit(f"lab-nats: {line.decode()}")
            elif line.startswith(b"MSG "):
                parts = line.split()
                data = self.read(int(parts[-1]))
                if parts[1].decode() == inbox:
                    return data

    def api(self, subject, body):
        reply = json.loads(self.request(subject, json.dumps(body).encode()) or b"{}")
        if "error" in reply:
            raise SystemExit(f"lab-nats: {subject}: {reply['error'].get('description', reply['error'])}")
        return reply


def main(argv):
    port, command = int(argv[1]), argv[2]
    c = Client(port)
    if command == "create":
        stream, subject = argv[3], argv[4]
        info = json.loads(c.request(f"$JS.API.STREAM.INFO.{stream}", b"") or b"{}")
        if "error" in info:
            c.api(f"$JS.API.STREAM.CREATE.{stream}", {"name": stream, "subjects": [subject], "storage": "file", "num_replicas": 1})
    elif command == "publish":
        subject, count = argv[3], int(argv[4])
        for i in range(count):
            ack = json.loads(c.request(subject, json.dumps({"event": "csr", "n": i}).encode()))
            if "error" in ack:
                raise SystemExit(f"lab-nats: publish: {ack['error'].get('description')}")
    elif command == "copy":
        stream, to = argv[3], Client(int(argv[4]))
        state = c.api(f"$JS.API.STREAM.INFO.{stream}", {})["state"]
        for seq in range(state["first_seq"], state["last_seq"] + 1):
            reply = json.loads(c.request(f"$JS.API.STREAM.MSG.GET.{stream}", json.dumps({"seq": seq}).encode()))
            if "error" in reply:
                continue  # a deleted message: a gap in the sequence
            m = reply["message"]
            ack = json.loads(to.request(m["subject"], base64.b64decode(m.get("data", ""))))
            if "error" in ack:
                raise SystemExit(f"lab-nats: copy: {ack['error'].get('description')}")
    elif command == "purge":
        c.api(f"$JS.API.STREAM.PURGE.{argv[3]}", {})
    else:
        raise SystemExit(__doc__.strip().splitlines()[2])


if __name__ == "__main__":
    main(sys.argv)
