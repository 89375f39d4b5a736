#!/usr/bin/env python3
"""One call SIPp -> Kamailio (rtpengine module) -> far_end.py with RTP both ways through a
media node: the rtpengine daemon or `tandem media`. For manual runs and for checking the
Kamailio config and scenarios independently of Tandem; MediaNodeInteropTests.swift does the
same from Swift. Prints the far ends' counts, the node's ng `query` reply, and PASS/FAIL.

  run_call.py --node rtpengine
  run_call.py --node tandem --tandem /work/main/.build/release/tandem
"""

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def bencode(value):
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(bencode(v) for v in value) + b"e"
    if isinstance(value, dict):
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in sorted(value.items())) + b"e"
    raise TypeError(type(value))


def bdecode(data, i=0):
    c = data[i:i + 1]
    if c == b"i":
        end = data.index(b"e", i)
        return int(data[i + 1:end]), end + 1
    if c == b"l":
        i += 1
        out = []
        while data[i:i + 1] != b"e":
            v, i = bdecode(data, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        i += 1
        out = {}
        while data[i:i + 1] != b"e":
            k, i = bdecode(data, i)
            v, i = bdecode(data, i)
            out[k.decode() if isinstance(k, bytes) else k] = v
        return out, i + 1
    colon = data.index(b":", i)
    n = int(data[i:colon])
    raw = data[colon + 1:colon + 1 + n]
    try:
        return raw.decode(), colon + 1 + n
    except UnicodeDecodeError:
        return raw, colon + 1 + n


def ng(port, command, timeout=2.0):
    """Sends one ng request to 127.0.0.1:port and returns (request bytes, reply bytes, decoded)."""
    cookie = "%08x" % random.getrandbits(32)
    request = cookie.encode() + b" " + bencode(command)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(request, ("127.0.0.1", port))
        reply = s.recv(65535)
    except socket.timeout:
        return request, None, None
    finally:
        s.close()
    body = reply.split(b" ", 1)[1] if b" " in reply else b""
    return request, reply, bdecode(body)[0]


def free_port(kind=socket.SOCK_DGRAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def free_range(count):
    for _ in range(50):
        base = random.randrange(20000, 59000, 2)
        socks = []
        try:
            for p in range(base, base + count):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base, base + count - 1
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port range")


class Proc:
    """A child process whose stdout/stderr lines are collected; stopped by PID."""

    def __init__(self, name, argv, cwd=None):
        self.name = name
        self.lines = []
        self.cond = threading.Condition()
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd,
                                  stdin=subprocess.DEVNULL)
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for raw in self.p.stdout:
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_line(self, predicate, timeout):
        """The first line satisfying predicate, or None when the process ends or timeout passes first."""
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                hit = next((line for line in self.lines if predicate(line)), None)
                left = end - time.monotonic()
                if hit is not None or left <= 0 or self.p.poll() is not None:
                    return hit
                self.cond.wait(min(left, 0.2))

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            os.kill(self.p.pid, sig)
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                os.kill(self.p.pid, signal.SIGKILL)
                self.p.wait()

    def text(self):
        with self.cond:
            return "\n".join(self.lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--node", choices=["rtpengine", "tandem"], default="rtpengine")
    ap.add_argument("--tandem", default="/work/main/.build/release/tandem")
    ap.add_argument("--packets", type=int, default=100)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    ng_port = free_port()
    sip_port = free_port()
    sipp_port = free_port()
    lo, hi = free_range(100)
    work = tempfile.mkdtemp(prefix="kam-media-")
    procs = []
    ok = True
    try:
        if args.node == "rtpengine":
            node = Proc("rtpengine", ["/usr/bin/rtpengine", "--table=-1", "--interface=127.0.0.1",
                                      "--listen-ng=127.0.0.1:%d" % ng_port, "--port-min=%d" % lo,
                                      "--port-max=%d" % hi, "--foreground", "--log-stderr", "--log-level=6",
                                      "--delete-delay=0"])
        else:
            node = Proc("tandem", [args.tandem, "media", "--ng", "127.0.0.1:%d" % ng_port,
                                   "--interface", "127.0.0.1", "--rtp-ports", "%d-%d" % (lo, hi), "--workers", "1"])
        procs.append(node)
        # Ready when it answers an ng ping (both nodes), bounded.
        end = time.monotonic() + 10
        pong = None
        while time.monotonic() < end and node.p.poll() is None:
            _, _, pong = ng(ng_port, {"command": "ping"}, timeout=0.2)
            if pong is not None:
                break
        print("node ping ->", pong)
        if pong is None:
            print(node.text())
            return 1

        far = Proc("far_end", [sys.executable, os.path.join(HERE, "far_end.py"), "--packets", str(args.packets)])
        procs.append(far)
        ready = far.wait_line(lambda l: l.startswith("ready "), 5)
        fields = dict(kv.split("=") for kv in ready.split()[1:])
        uas_sip, uac_media = int(fields["sip"]), int(fields["uac-media"])

        kam = Proc("kamailio", ["/usr/sbin/kamailio", "-DD", "-E", "-m", "64", "-M", "8", "-n", "1",
                                "-f", os.path.join(HERE, "kamailio.cfg"), "-w", work, "-Y", work,
                                "-l", "udp:127.0.0.1:%d" % sip_port,
                                "-A", 'NG_SOCK="udp:127.0.0.1:%d"' % ng_port,
                                "-A", 'UAS_URI="sip:127.0.0.1:%d"' % uas_sip])
        procs.append(kam)
        # Kamailio prints nothing on readiness at debug=2; its listener is up once it answers OPTIONS (405).
        end = time.monotonic() + 10
        up = False
        while time.monotonic() < end and kam.p.poll() is None and not up:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(0.2)
            s.bind(("127.0.0.1", 0))
            probe = ("OPTIONS sip:probe@127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKprobe%d\r\n"
                     "From: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:probe@127.0.0.1>\r\nCall-ID: probe-%d\r\n"
                     "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
                     % (sip_port, s.getsockname()[1], random.getrandbits(31), random.getrandbits(31)))
            s.sendto(probe.encode(), ("127.0.0.1", sip_port))
            try:
                up = s.recv(65535).startswith(b"SIP/2.0 ")
            except socket.timeout:
                pass
            s.close()
        print("kamailio up:", up)
        if not up:
            print(kam.text())
            return 1

        log_file = os.path.join(work, "sipp-actions.log")
        sipp = Proc("sipp", ["/usr/bin/sipp", "-sf", os.path.join(HERE, "uac.xml"), "-s", "media", "-m", "1",
                             "-i", "127.0.0.1", "-p", str(sipp_port), "-key", "uacmedia", str(uac_media),
                             "-trace_logs", "-log_file", log_file, "-nostdin", "-timeout", "25", "-timeout_error",
                             "127.0.0.1:%d" % sip_port], cwd=work)
        procs.append(sipp)

        offer = far.wait_line(lambda l: l.startswith("uas-offer "), 10)
        print(offer)
        done = far.wait_line(lambda l: l.startswith("media-done "), 15)
        if done is None:
            print("no media-done\n" + "\n".join("---- %s\n%s" % (p.name, p.text()[-3000:]) for p in procs))
            return 1
        call_id = offer.split("call-id=")[1].split()[0]
        request, reply, query = ng(ng_port, {"command": "query", "call-id": call_id})
        print("ng query request:", request)
        print("ng query reply:", json.dumps(query, indent=1, default=repr) if args.verbose else
              json.dumps(query, default=repr)[:3000])
        os.kill(far.p.pid, signal.SIGUSR1)
        far.p.wait(10)
        sipp.p.wait(15)
        _, after_reply, after = ng(ng_port, {"command": "query", "call-id": call_id})
        print("ng query after BYE:", after_reply[:300] if after_reply else None)
        result_line = far.wait_line(lambda l: l.startswith("result "), 1)
        result = json.loads(result_line.split(" ", 1)[1])
        try:
            with open(log_file) as f:
                sipp_log = f.read()
        except OSError:
            sipp_log = ""
        print("sipp status:", sipp.p.returncode)
        print("sipp log:", sipp_log.strip())
        print("far end:", json.dumps(result))

        uas, uac = result["uas"], result["uac"]
        answer_port = int(sipp_log.split("uac-answer-sdp ")[1].split()[1]) if "uac-answer-sdp " in sipp_log else None
        checks = {
            "sipp call succeeded": sipp.p.returncode == 0,
            "BYE answered 200": result["bye_status"] == 200,
            "UAS offer rewritten (not the caller's port)": result["uas_offer"]["port"] not in (None, uac_media)
                and lo <= result["uas_offer"]["port"] <= hi,
            "UAC answer rewritten (not the callee's port)": answer_port is not None and answer_port != uas["port"]
                and lo <= answer_port <= hi,
            "UAS got >= 80% of UAC's RTP": uas["received"] >= 0.8 * uac["sent"] and uac["sent"] == args.packets,
            "UAC got >= 80% of UAS's RTP": uac["received"] >= 0.8 * uas["sent"] and uas["sent"] == args.packets,
            "UAS media came from its offer's address": uas["sources"] == ["127.0.0.1:%d" % result["uas_offer"]["port"]],
            "UAC media came from its answer's address": answer_port is not None
                and uac["sources"] == ["127.0.0.1:%d" % answer_port],
            "node query ok": isinstance(query, dict) and query.get("result") == "ok",
            "call gone from the node after BYE": isinstance(after, dict) and after.get("result") == "error",
        }
        streams = []
        if isinstance(query, dict):
            for tag, t in (query.get("tags") or {}).items():
                for m in t.get("medias", []):
                    for s in m.get("streams", []):
                        stats = s.get("stats", {})
                        streams.append((tag, s.get("local port"), stats.get("packets")))
        print("node streams (tag, local port, packets):", streams)
        rtp_counts = [p for _, port, p in streams if port in (result["uas_offer"]["port"], answer_port)]
        checks["node counted both directions"] = len(rtp_counts) == 2 and all(
            isinstance(p, int) and p >= 0.8 * args.packets for p in rtp_counts)
        for name, passed in checks.items():
            print("%s %s" % ("PASS" if passed else "FAIL", name))
            ok = ok and passed
        if not ok or args.verbose:
            for p in procs:
                print("---- %s" % p.name)
                print(p.text()[-4000:])
        return 0 if ok else 1
    finally:
        for p in reversed(procs):
            p.stop()


if __name__ == "__main__":
    sys.exit(main())
