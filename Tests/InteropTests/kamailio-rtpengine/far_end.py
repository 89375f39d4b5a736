#!/usr/bin/env python3
"""Both far ends of a media-node interop call, each counting the RTP it receives.

* A UAS on UDP: answers an INVITE with SDP (PCMU), and after the ACK sends RTP to the
  address in the offer it received (the media node, if the proxy rewrote it).
* The caller's RTP endpoint (the port SIPp's INVITE advertises): it sends RTP back to the
  source of the first packet it receives (symmetric RTP), so it needs no SDP of its own.

Both send PACKETS packets of 20 ms PCMU and count what arrives. When both have finished it
prints `media-done {json}`; on SIGUSR1 (or after --hangup-after seconds) the UAS sends BYE
through the proxy's route set, prints `bye-status CODE` and `result {json}`, and exits.

Lines on stdout (one event each, flushed):
  ready sip=PORT uac-media=PORT uas-media=PORT
  uas-offer call-id=ID addr=ADDR port=PORT
  uac-first-packet addr=ADDR port=PORT
  media-done {json}
  bye-status CODE
  result {json}
"""

import argparse
import json
import os
import random
import re
import select
import signal
import socket
import sys
import time

PAYLOAD = b"\xff" * 160  # 20 ms of PCMU silence at 8 kHz.


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class RTPEndpoint:
    """One UDP socket that paces PACKETS RTP packets to `remote` and counts RTP received."""

    def __init__(self, name, packets, ssrc):
        self.name = name
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.packets = packets
        self.ssrc = ssrc
        self.remote = None
        self.started = None
        self.sent = 0
        self.received = 0
        self.bytes = 0
        self.sources = set()
        self.ssrcs = set()
        self.non_rtp = 0
        self.last_send = None

    def start(self, remote):
        if self.started is None:
            self.remote = remote
            self.started = time.monotonic()

    def next_due(self):
        if self.started is None or self.sent >= self.packets:
            return None
        return self.started + self.sent * 0.020

    def send_due(self, now):
        due = self.next_due()
        while due is not None and due <= now:
            seq = (1000 + self.sent) & 0xFFFF
            ts = (160 * self.sent) & 0xFFFFFFFF
            header = bytes([0x80, 0x00]) + seq.to_bytes(2, "big") + ts.to_bytes(4, "big") + self.ssrc.to_bytes(4, "big")
            self.sock.sendto(header + PAYLOAD, self.remote)
            self.sent += 1
            self.last_send = now
            due = self.next_due()

    def receive(self):
        first = None
        while True:
            try:
                data, source = self.sock.recvfrom(4096)
            except BlockingIOError:
                return first
            if len(data) < 12 or data[0] >> 6 != 2 or 72 <= (data[1] & 0x7F) <= 79:
                self.non_rtp += 1  # RTCP or garbage: not counted as RTP.
                continue
            self.received += 1
            self.bytes += len(data)
            self.sources.add("%s:%d" % source)
            self.ssrcs.add(int.from_bytes(data[8:12], "big"))
            if first is None:
                first = source

    def summary(self):
        return {"port": self.port, "sent": self.sent, "received": self.received, "bytes": self.bytes,
                "sources": sorted(self.sources), "ssrcs": sorted(self.ssrcs), "non_rtp": self.non_rtp,
                "remote": None if self.remote is None else "%s:%d" % self.remote}


def parse_sip(data):
    text = data.decode("utf-8", "replace")
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:
            headers[-1] = (headers[-1][0], headers[-1][1] + " " + line.strip())
        elif ":" in line:
            name, _, value = line.partition(":")
            headers.append((name.strip().lower(), value.strip()))
    return lines[0], headers, body


def header(headers, name):
    for n, v in headers:
        if n == name:
            return v
    return None


def all_headers(headers, name):
    return [v for n, v in headers if n == name]


def sdp_media(body):
    addr = re.search(r"^c=IN IP4 ([0-9.]+)", body, re.M)
    port = re.search(r"^m=audio ([0-9]+) ", body, re.M)
    return (addr.group(1) if addr else None, int(port.group(1)) if port else None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--packets", type=int, default=100)
    ap.add_argument("--hangup-after", type=float, default=20.0,
                    help="seconds after media-done to hang up without SIGUSR1")
    ap.add_argument("--timeout", type=float, default=28.0, help="whole run bound, seconds")
    args = ap.parse_args()

    hangup_requested = [False]
    wake_r, wake_w = socket.socketpair()
    wake_r.setblocking(False)
    wake_w.setblocking(False)

    def on_usr1(_signum, _frame):
        hangup_requested[0] = True
        try:
            wake_w.send(b"x")
        except OSError:
            pass

    signal.signal(signal.SIGUSR1, on_usr1)
    # A parent may start us from a thread that blocks signals (Foundation's Process does);
    # the mask is inherited, so undo it or SIGUSR1/SIGTERM would never arrive.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1, signal.SIGTERM, signal.SIGINT})

    sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sip.bind(("127.0.0.1", 0))
    sip_port = sip.getsockname()[1]
    uas = RTPEndpoint("uas", args.packets, random.getrandbits(32))
    uac = RTPEndpoint("uac", args.packets, random.getrandbits(32))
    say("ready sip=%d uac-media=%d uas-media=%d" % (sip_port, uac.port, uas.port))

    deadline = time.monotonic() + args.timeout
    invite = None          # (headers, offer addr, offer port)
    answer = None          # bytes of our 200, resent on INVITE retransmission
    local_tag = "fe%08x" % random.getrandbits(32)
    media_done_at = None
    bye = None             # (bytes, destination, first sent, last sent)
    bye_status = None
    result = {"uas_offer": None, "call_id": None}

    while time.monotonic() < deadline:
        now = time.monotonic()
        for ep in (uas, uac):
            ep.send_due(now)
        dues = [d for d in (uas.next_due(), uac.next_due()) if d is not None]
        timeout = max(0.0, min(dues) - now) if dues else 0.05
        readable, _, _ = select.select([sip, uas.sock, uac.sock, wake_r], [], [], timeout)
        if wake_r in readable:
            try:
                wake_r.recv(64)
            except BlockingIOError:
                pass
        if uas.sock in readable:
            uas.receive()
        if uac.sock in readable:
            first = uac.receive()
            if first is not None and uac.started is None:
                say("uac-first-packet addr=%s port=%d" % first)
                uac.start(first)
        if sip in readable:
            data, source = sip.recvfrom(65535)
            start, headers, body = parse_sip(data)
            if start.startswith("INVITE "):
                if invite is None:
                    addr, port = sdp_media(body)
                    invite = headers
                    result["uas_offer"] = {"addr": addr, "port": port}
                    result["call_id"] = header(headers, "call-id")
                    say("uas-offer call-id=%s addr=%s port=%s" % (header(headers, "call-id"), addr, port))
                    sdp = ("v=0\r\no=far-end 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                           "m=audio %d RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n" % uas.port)
                    lines = ["SIP/2.0 200 OK"]
                    lines += ["Via: " + v for v in all_headers(headers, "via")]
                    lines += ["Record-Route: " + v for v in all_headers(headers, "record-route")]
                    lines += ["From: " + header(headers, "from"), "To: %s;tag=%s" % (header(headers, "to"), local_tag),
                              "Call-ID: " + header(headers, "call-id"), "CSeq: " + header(headers, "cseq"),
                              "Contact: <sip:far-end@127.0.0.1:%d>" % sip_port,
                              "Content-Type: application/sdp", "Content-Length: %d" % len(sdp)]
                    answer = ("\r\n".join(lines) + "\r\n\r\n" + sdp).encode()
                    uas.remote = (addr, port) if addr and port else None
                sip.sendto(answer, source)
            elif start.startswith("ACK "):
                if uas.remote is not None and uas.started is None:
                    uas.start(uas.remote)
            elif start.startswith("BYE "):
                lines = ["SIP/2.0 200 OK"] + ["Via: " + v for v in all_headers(headers, "via")]
                lines += ["From: " + header(headers, "from"), "To: " + header(headers, "to"),
                          "Call-ID: " + header(headers, "call-id"), "CSeq: " + header(headers, "cseq"),
                          "Content-Length: 0"]
                sip.sendto(("\r\n".join(lines) + "\r\n\r\n").encode(), source)
                bye_status = 0  # the caller hung up first: not what the scenario expects
                break
            elif start.startswith("SIP/2.0 ") and bye is not None and " BYE" in (header(headers, "cseq") or ""):
                code = int(start.split()[1])
                if code >= 200:
                    bye_status = code
                    break

        now = time.monotonic()
        finished_sending = uas.sent >= uas.packets and uac.sent >= uac.packets
        if media_done_at is None and finished_sending:
            # Let the last packets arrive: until both counted everything or 300 ms passed.
            complete = uas.received >= uac.sent and uac.received >= uas.sent
            if complete or now - max(uas.last_send, uac.last_send) > 0.3:
                media_done_at = now
                say("media-done " + json.dumps({"uas": uas.summary(), "uac": uac.summary()}))
        if bye is None and invite is not None and (hangup_requested[0] or (
                media_done_at is not None and now - media_done_at > args.hangup_after)):
            routes = [r.strip() for v in all_headers(invite, "record-route") for r in v.split(",")]
            contact = re.search(r"<([^>]+)>", header(invite, "contact") or "")
            target = contact.group(1) if contact else header(invite, "contact")
            hop = re.search(r"sip:([0-9.]+):([0-9]+)", routes[0] if routes else target)
            destination = (hop.group(1), int(hop.group(2)))
            lines = ["BYE %s SIP/2.0" % target,
                     "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%08x;rport" % (sip_port, random.getrandbits(32))]
            lines += ["Route: " + r for r in routes]
            lines += ["Max-Forwards: 70", "From: %s;tag=%s" % (header(invite, "to"), local_tag),
                      "To: " + header(invite, "from"), "Call-ID: " + header(invite, "call-id"),
                      "CSeq: 1 BYE", "Content-Length: 0"]
            message = ("\r\n".join(lines) + "\r\n\r\n").encode()
            sip.sendto(message, destination)
            bye = (message, destination, now, now)
        elif bye is not None and now - bye[3] > 0.5:
            if now - bye[2] > 4.0:
                bye_status = -1  # no final answer to BYE
                break
            sip.sendto(bye[0], bye[1])
            bye = (bye[0], bye[1], bye[2], now)

    if media_done_at is None:
        say("media-done " + json.dumps({"uas": uas.summary(), "uac": uac.summary()}))
    say("bye-status %s" % bye_status)
    result.update({"uas": uas.summary(), "uac": uac.summary(), "bye_status": bye_status})
    say("result " + json.dumps(result))
    return 0 if bye_status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
