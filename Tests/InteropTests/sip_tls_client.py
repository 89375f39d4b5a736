#!/usr/bin/env python3
"""A SIP-over-TLS client for the interop tests, on Python's ssl module (OpenSSL): SIPp as packaged in
Debian is built without TLS. Sends OPTIONS, then REGISTER answering the digest challenge (RFC 2617,
qop=auth), and prints one line per final response. Usage: sip_tls_client.py HOST PORT USER PASSWORD"""
import hashlib
import re
import socket
import ssl
import sys
import uuid

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
context.minimum_version = ssl.TLSVersion.TLSv1_2
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE  # the peer's certificate is self-signed for the test
raw = socket.create_connection((host, port), timeout=10)
tls = context.wrap_socket(raw, server_hostname=host)
print("tls", tls.version(), flush=True)
local_port = tls.getsockname()[1]
buffer = b""


def read_message():
    global buffer
    while b"\r\n\r\n" not in buffer:
        chunk = tls.recv(4096)
        if not chunk:
            raise SystemExit("connection closed")
        buffer += chunk
    head, rest = buffer.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"(?im)^(?:content-length|l)\s*:\s*(\d+)", head).group(1))
    while len(rest) < length:
        rest += tls.recv(4096)
    buffer = rest[length:]
    return head.decode(), rest[:length]


def request(method, cseq, extra=""):
    call_id = request.call_id
    msg = (f"{method} sip:{host}:{port};transport=tls SIP/2.0\r\n"
           f"Via: SIP/2.0/TLS 127.0.0.1:{local_port};branch=z9hG4bK{uuid.uuid4().hex};rport\r\n"
           f"From: <sip:{user}@{host}>;tag=tlsclient\r\n"
           f"To: <sip:{user}@{host}>\r\n"
           f"Call-ID: {call_id}\r\n"
           f"CSeq: {cseq} {method}\r\n"
           f"Contact: <sip:{user}@127.0.0.1:{local_port};transport=tls>\r\n"
           f"Max-Forwards: 70\r\n{extra}Content-Length: 0\r\n\r\n")
    tls.sendall(msg.encode())
    while True:
        head, _ = read_message()
        status = int(head.split(" ", 2)[1])
        if status >= 200:
            return status, head


request.call_id = uuid.uuid4().hex
status, _ = request("OPTIONS", 1)
print("options", status, flush=True)
request.call_id = uuid.uuid4().hex
status, head = request("REGISTER", 1)
print("register-challenge", status, flush=True)
challenge = re.search(r"(?im)^WWW-Authenticate:\s*Digest\s+(.*)$", head).group(1)
params = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge))
realm, nonce = params["realm"], params["nonce"]
uri = f"sip:{host}:{port};transport=tls"
cnonce, nc = uuid.uuid4().hex[:16], "00000001"
ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()
ha2 = hashlib.md5(f"REGISTER:{uri}".encode()).hexdigest()
response = hashlib.md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}".encode()).hexdigest()
auth = (f'Authorization: Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
        f'response="{response}", algorithm=MD5, qop=auth, nc={nc}, cnonce="{cnonce}"\r\n')
status, _ = request("REGISTER", 2, auth + "Expires: 300\r\n")
print("register", status, flush=True)
tls.close()
