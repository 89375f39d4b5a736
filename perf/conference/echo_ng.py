#!/usr/bin/env python3
"""A stand-in ng server for checking this harness (selftest.sh), not a mixer: `conference join`
answers with a fresh UDP port that sends every packet straight back to its sender, so the delay
the generator measures through it is the method's own zero point. Also answers ping, query,
destroy. Single-threaded (select), fine for a few dozen participants.
Usage: echo_ng.py PORT"""
import os
import select
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "relay"))
from ng_setup import bdecode, bencode  # noqa: E402

control = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
control.bind(("127.0.0.1", int(sys.argv[1])))
echoes = []
while True:
    readable, _, _ = select.select([control, *echoes], [], [])
    for sock in readable:
        data, addr = sock.recvfrom(65536)
        if sock is not control:
            sock.sendto(data, addr)
            continue
        cookie, _, body = data.partition(b" ")
        try:
            message, _ = bdecode(body)
        except (ValueError, IndexError):
            continue
        command = message.get("command")
        if command == "ping":
            reply = {"result": "pong"}
        elif command == "conference join":
            echo = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            echo.bind(("127.0.0.1", 0))
            echo.setblocking(False)
            echoes.append(echo)
            offered = next(line for line in message["sdp"].splitlines() if line.startswith("m=audio")).split()
            reply = {"result": "ok", "sdp": f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                                            f"m=audio {echo.getsockname()[1]} RTP/AVP {offered[3]}\r\na=sendrecv\r\n"}
        elif command in ("conference query", "conference destroy", "conference leave"):
            reply = {"result": "ok"}
        else:
            reply = {"result": "error", "error-reason": "Unrecognized command"}
        control.sendto(cookie + b" " + bencode(reply), addr)
