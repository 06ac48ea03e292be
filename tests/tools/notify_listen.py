#!/usr/bin/env python3
"""notify_listen.py - stand in for systemd's notification socket in tests.

Usage: notify_listen.py SOCKET OUT SECONDS

Binds an AF_UNIX datagram socket at SOCKET (a path, or "@name" for the
abstract namespace) and appends one JSON line per datagram to OUT:
{"t": CLOCK_MONOTONIC seconds at arrival, "pid": the sender's pid as the
kernel says (what systemd's NotifyAccess=main checks), "msg": the text}.
Stops after SECONDS, or on SIGTERM; always bounded in time.
"""
import json
import os
import signal
import socket
import struct
import sys
import time


def main():
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    addr, out, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    if addr.startswith("@"):
        sock.bind("\0" + addr[1:])
    else:
        if os.path.exists(addr):
            os.unlink(addr)
        sock.bind(addr)
    sock.settimeout(0.2)
    creds = struct.calcsize("iII")
    deadline = time.monotonic() + secs
    with open(out, "a", encoding="utf-8") as f:
        while time.monotonic() < deadline:
            try:
                data, anc, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(creds))
            except socket.timeout:
                continue
            pid = 0
            for level, kind, cdata in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("iII", cdata[:creds])[0]
            line = {"t": time.monotonic(), "pid": pid,
                    "msg": data.decode("utf-8", "replace")}
            f.write(json.dumps(line) + "\n")
            f.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
