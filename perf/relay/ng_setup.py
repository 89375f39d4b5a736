#!/usr/bin/env python3
"""Sets up relayed calls on an ng-protocol media relay (rtpengine, `tandem media`) and writes the
port layout perf/relay/loadgen.c and forwarder.c read.

Per call i: `offer` with side A's SDP (127.0.0.1, port LOCAL_BASE+4i), then `answer` with side B's
SDP (port LOCAL_BASE+4i+2). The relay's rewritten offer SDP is what side B is told, so its port is
where B sends; the rewritten answer SDP is what A is told, so its port is where A sends.
Layout line: "LOCAL_A LOCAL_B RELAY_IP RELAY_PORT_A RELAY_PORT_B".

Usage: ng_setup.py --ng 127.0.0.1:PORT [--wait SECONDS] [--calls N --local-base P --out FILE] [--tag NAME]
--wait first pings the relay until it answers "pong" (it is starting), failing after SECONDS.
"""
import argparse
import os
import socket
import sys
import time


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
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"
    raise TypeError(f"cannot bencode {type(value)}")


def bdecode(data, i=0):
    """Returns (value, next index). Strings come back as str when they are UTF-8."""
    c = data[i:i + 1]
    if c == b"i":
        end = data.index(b"e", i)
        return int(data[i + 1:end]), end + 1
    if c == b"l":
        i, out = i + 1, []
        while data[i:i + 1] != b"e":
            v, i = bdecode(data, i)
            out.append(v)
        return out, i + 1
    if c == b"d":
        i, out = i + 1, {}
        while data[i:i + 1] != b"e":
            k, i = bdecode(data, i)
            v, i = bdecode(data, i)
            out[k] = v
        return out, i + 1
    colon = data.index(b":", i)
    n = int(data[i:colon])
    raw = data[colon + 1:colon + 1 + n]
    try:
        raw = raw.decode()
    except UnicodeDecodeError:
        pass
    return raw, colon + 1 + n


class NGClient:
    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self.target = (host, int(port))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.counter = 0
        self.prefix = os.urandom(4).hex()

    def request(self, message, timeout=2.0, attempts=3):
        self.counter += 1
        cookie = f"{self.prefix}{self.counter}".encode()
        datagram = cookie + b" " + bencode(message)
        self.sock.settimeout(timeout)
        for _ in range(attempts):
            self.sock.sendto(datagram, self.target)
            try:
                while True:
                    data, _ = self.sock.recvfrom(65536)
                    got, _, body = data.partition(b" ")
                    if got == cookie:
                        reply, _ = bdecode(body)
                        return reply
            except socket.timeout:
                continue
        raise RuntimeError(f"no ng reply to {message.get('command')} from {self.target}")


def sdp(port, session):
    return (
        "v=0\r\n"
        f"o=- {session} 1 IN IP4 127.0.0.1\r\n"
        "s=-\r\n"
        "c=IN IP4 127.0.0.1\r\n"
        "t=0 0\r\n"
        f"m=audio {port} RTP/AVP 0\r\n"
        "a=rtpmap:0 PCMU/8000\r\n"
        "a=sendrecv\r\n"
    )


def media_endpoint(text):
    """(address, port) of the first audio stream: media-level c= wins over session-level."""
    address, port, in_media = None, None, False
    for line in text.splitlines():
        if line.startswith("m="):
            if in_media:
                break
            if line.startswith("m=audio "):
                in_media = True
                port = int(line.split()[1])
        elif line.startswith("c=") and (in_media or address is None):
            address = line.split()[-1]
    if address is None or port is None:
        raise RuntimeError(f"no audio endpoint in SDP:\n{text}")
    return address, port


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ng", required=True)
    parser.add_argument("--wait", type=float, default=0)
    parser.add_argument("--calls", type=int, default=0)
    parser.add_argument("--local-base", type=int, default=16000)
    parser.add_argument("--out")
    parser.add_argument("--tag", default="perf")
    args = parser.parse_args()

    client = NGClient(args.ng)
    if args.wait > 0:
        deadline = time.monotonic() + args.wait
        while True:
            try:
                reply = client.request({"command": "ping"}, timeout=0.2, attempts=1)
                if reply.get("result") == "pong":
                    break
            except (RuntimeError, ConnectionRefusedError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"no pong from {args.ng} within {args.wait} s")
            time.sleep(0.1)
    if args.calls == 0:
        return 0
    if not args.out:
        raise RuntimeError("--out is required with --calls")
    lines = []
    for i in range(args.calls):
        local_a, local_b = args.local_base + 4 * i, args.local_base + 4 * i + 2
        call_id = f"{args.tag}-{client.prefix}-{i}"
        offer = client.request({
            "command": "offer", "call-id": call_id, "from-tag": f"a{i}", "sdp": sdp(local_a, 1000 + i),
        })
        if offer.get("result") != "ok":
            raise RuntimeError(f"offer for call {i} refused: {offer}")
        answer = client.request({
            "command": "answer", "call-id": call_id, "from-tag": f"a{i}", "to-tag": f"b{i}",
            "sdp": sdp(local_b, 2000 + i),
        })
        if answer.get("result") != "ok":
            raise RuntimeError(f"answer for call {i} refused: {answer}")
        relay_ip, port_for_b = media_endpoint(offer["sdp"])
        relay_ip_a, port_for_a = media_endpoint(answer["sdp"])
        if relay_ip_a != relay_ip:
            raise RuntimeError(f"call {i}: relay advertised {relay_ip} to B but {relay_ip_a} to A")
        lines.append(f"{local_a} {local_b} {relay_ip} {port_for_a} {port_for_b}\n")
    with open(args.out, "w") as f:
        f.writelines(lines)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError, ValueError) as error:
        print(f"ng_setup: {error}", file=sys.stderr)
        sys.exit(1)
