#!/usr/bin/env python3
"""oggclock.py - listen to an Ogg/Vorbis mount and measure its clock.

Usage: oggclock.py --port P --mount /M --seconds S [--skip W] [--out F]
                   [--record FILE] [--points FILE]

Connects to http://127.0.0.1:P/M as a listener (loopback only), reads for
S seconds (at most; it stops early if the server closes), and notes, for
every Ogg page that ends a packet, the monotonic time it arrived and the
stream position it carries (its granule position: samples since the
start of its logical stream). Chained streams (one per item, as
pulse-radio sends) are joined end to end; the first one, joined in the
middle, counts from the first position received.

The source's clock against this machine's: a least-squares line through
(arrival time, audio position) over the points after the first W seconds
(default 10: the start-up, when the server and the source fill their
buffers). Its slope is audio seconds per wall second; drift_pct =
(slope - 1) * 100. The fit smooths the arrival jitter (a page every
quarter second or so, sent in bursts) that makes a plain "audio received
/ time listened" inaccurate by a page or two over minutes: that figure is
printed too, as ratio_pct. jitter_s is the spread (max - min) of the
points about the line: how far delivery ran ahead of or behind a steady
rate. CLOCK_MONOTONIC runs at the rate of the wall clock (NTP slews it)
but never jumps.

Writes key=value lines to --out (or stdout): listened_s audio_s
ratio_pct drift_pct jitter_s points streams rate bytes. --record keeps
the stream as received; --points writes "seconds audio_seconds" a line,
one per page, for a closer look (a plot, a fit over another window).
"""
import argparse
import socket
import struct
import sys
import time


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mount", required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--skip", type=float, default=10.0)
    ap.add_argument("--out")
    ap.add_argument("--record")
    ap.add_argument("--points")
    ap.add_argument("--connect-timeout", type=float, default=10.0)
    return ap.parse_args()


class Pages:
    """Splits a byte stream into Ogg pages."""

    def __init__(self):
        self.buf = bytearray()

    def feed(self, data):
        self.buf += data
        pages = []
        while True:
            i = self.buf.find(b"OggS")
            if i < 0:
                del self.buf[:max(0, len(self.buf) - 3)]
                break
            if i:
                del self.buf[:i]
            if len(self.buf) < 27:
                break
            nseg = self.buf[26]
            if len(self.buf) < 27 + nseg:
                break
            body = sum(self.buf[27:27 + nseg])
            size = 27 + nseg + body
            if len(self.buf) < size:
                break
            flags = self.buf[5]
            granule, serial = struct.unpack_from("<qI", self.buf, 6)
            first = bytes(self.buf[27 + nseg:27 + nseg + 30])
            pages.append((flags, granule, serial, first))
            del self.buf[:size]
        return pages


def fit(points):
    """Least squares y = a + b x; returns (b, spread of residuals)."""
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    sxy = sum((p[0] - mx) * (p[1] - my) for p in points)
    b = sxy / sxx
    a = my - b * mx
    res = [p[1] - (a + b * p[0]) for p in points]
    return b, max(res) - min(res)


def main():
    a = parse_args()
    sock = socket.create_connection(("127.0.0.1", a.port),
                                    timeout=a.connect_timeout)
    sock.sendall(f"GET {a.mount} HTTP/1.0\r\nHost: 127.0.0.1\r\n"
                 "User-Agent: pulse-radio-bench\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            sys.exit("oggclock: the server closed before a response")
        head += chunk
        if len(head) > 65536:
            sys.exit("oggclock: no end of HTTP headers")
    head, rest = head.split(b"\r\n\r\n", 1)
    status = head.split(b"\r\n", 1)[0].decode(errors="replace")
    if " 200" not in status:
        sys.exit(f"oggclock: {a.mount}: {status}")
    rec = open(a.record, "wb") if a.record else None
    t0 = time.monotonic()
    end = t0 + a.seconds
    pages = Pages()
    rate = None
    serial_cur = None
    base = 0           # samples before the current logical stream
    first_pos = None   # the first position seen (the joined stream's)
    last_gran = 0
    streams = 0
    nbytes = 0
    points = []        # (t, audio seconds)
    data = rest
    while True:
        if data:
            now = time.monotonic()
            nbytes += len(data)
            if rec:
                rec.write(data)
            for flags, gran, serial, first in pages.feed(data):
                if serial != serial_cur:
                    # A new logical stream: it starts where the last one
                    # ended.
                    if serial_cur is not None:
                        base += last_gran
                    serial_cur = serial
                    last_gran = 0
                    streams += 1
                if first[:7] == b"\x01vorbis" and len(first) >= 16:
                    rate = struct.unpack_from("<I", first, 12)[0]
                if gran < 0 or rate is None:
                    continue
                if first_pos is None:
                    first_pos = base + gran
                last_gran = gran
                points.append((now - t0,
                               (base + gran - first_pos) / rate))
        left = end - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(min(left, 5.0))
        try:
            data = sock.recv(65536)
        except socket.timeout:
            data = b""
            continue
        if not data:
            break
    listened = time.monotonic() - t0
    sock.close()
    if rec:
        rec.close()
    if a.points:
        with open(a.points, "w") as f:
            f.writelines(f"{t:.4f} {p:.6f}\n" for t, p in points)
    out = {"listened_s": f"{listened:.3f}", "bytes": nbytes,
           "streams": streams, "rate": rate or "NA", "points": len(points)}
    late = [p for p in points if p[0] >= a.skip]
    if len(late) >= 10 and late[-1][0] - late[0][0] > 10:
        slope, spread = fit(late)
        out["drift_pct"] = f"{(slope - 1) * 100:+.4f}"
        out["jitter_s"] = f"{spread:.3f}"
        # Audio between the first and the last point after the skip,
        # against the time between their arrivals.
        span_t = late[-1][0] - late[0][0]
        span_a = late[-1][1] - late[0][1]
        out["audio_s"] = f"{span_a:.3f}"
        out["ratio_pct"] = f"{(span_a / span_t - 1) * 100:+.4f}"
        out["fit_s"] = f"{span_t:.3f}"
    else:
        out.update(drift_pct="NA", jitter_s="NA", audio_s="NA",
                   ratio_pct="NA", fit_s="NA")
    text = "".join(f"{k}={v}\n" for k, v in out.items())
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0 if points else 1


if __name__ == "__main__":
    sys.exit(main())
