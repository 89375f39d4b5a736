#!/usr/bin/env python3
"""The transferor A of an attended transfer, over UDP: SIPp runs one Call-ID per scenario, and A needs two
dialogs. A (USER/PASSWORD, digest with qop=auth) calls B, then calls C (the consultation), then sends REFER in
the call with B: Refer-To <sip:C@HOST?Replaces=CALLID2;to-tag=T;from-tag=F> naming its dialog with C through
Tandem. Expects 202, NOTIFY sipfrag 100 (optional) and 200 (terminated); answers every NOTIFY and BYE with 200;
then hangs up the call with B and expects the consultation dialog to be ended by Tandem (BYE received) or
accepts a 200/481 to its own BYE there. Prints one line per step; exits 0 only when all held.
Usage: transfer_attended_uac.py HOST PORT USER PASSWORD B C

With `replaces` instead of B C (… USER PASSWORD replaces B USER2 PASSWORD2): A calls B, then phone X (USER2)
sends Tandem an INVITE with Replaces naming A's dialog (RFC 3891); X must be answered 200 and A must get BYE;
after a while X hangs up (BYE, 200)."""
import hashlib
import re
import socket
import sys
import time
import uuid

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
mode = "replaces" if sys.argv[5] == "replaces" else "refer"
if mode == "refer":
    b_number, c_number = sys.argv[5], sys.argv[6]
else:
    b_number, x_user, x_password = sys.argv[6], sys.argv[7], sys.argv[8]
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", 0))
sock.settimeout(0.5)
local_port = sock.getsockname()[1]
server = (host, port)
deadline = time.time() + 25
received_requests = []  # (method, call-id, head, body)


def fail(why):
    print("FAIL", why, flush=True)
    sys.exit(1)


def header(head, name):
    m = re.search(r"(?im)^" + name + r"\s*:\s*(.*)$", head)
    return m.group(1).strip() if m else None


def answer_request(head, body):
    """Answers an incoming request with 200 (NOTIFY, BYE, re-INVITE gets our SDP back)."""
    lines = head.split("\r\n")
    method = lines[0].split(" ", 1)[0]
    keep = [l for l in lines[1:] if re.match(r"(?i)^(via|from|to|call-id|cseq)\s*:", l)]
    extra = ""
    if method == "INVITE":
        sdp = make_sdp()
        extra = f"Contact: <sip:{user}@127.0.0.1:{local_port}>\r\nContent-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}"
    else:
        extra = "Content-Length: 0\r\n\r\n"
    if method != "ACK":
        sock.sendto(("SIP/2.0 200 OK\r\n" + "\r\n".join(keep) + "\r\n" + extra).encode(), server)
    received_requests.append((method, header(head, "Call-ID"), head, body))
    print("received", method, header(head, "Call-ID"), body.strip().split("\r\n")[0] if body else "", flush=True)


def receive():
    while time.time() < deadline:
        try:
            data, _ = sock.recvfrom(65535)
        except socket.timeout:
            continue
        head, _, body = data.decode(errors="replace").partition("\r\n\r\n")
        if head.startswith("SIP/2.0 "):
            return head, body
        answer_request(head, body)
    fail("timed out")


def make_sdp():
    return (f"v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {local_port + 2} RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
            f"a=fmtp:101 0-16\r\n")


class Dialog:
    def __init__(self, target, user=user, password=password):
        self.target = target
        self.user = user
        self.password = password
        self.call_id = uuid.uuid4().hex + "@transferor"
        self.tag = uuid.uuid4().hex[:10]
        self.remote_tag = None
        self.cseq = 0

    def request(self, method, extra="", body="", branch=None, cseq=None):
        if cseq is None:
            self.cseq += 1
            cseq = self.cseq
        to_tag = f";tag={self.remote_tag}" if self.remote_tag else ""
        branch = branch or "z9hG4bK" + uuid.uuid4().hex
        msg = (f"{method} sip:{self.target}@{host}:{port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP 127.0.0.1:{local_port};branch={branch};rport\r\n"
               f"From: <sip:{self.user}@{host}>;tag={self.tag}\r\n"
               f"To: <sip:{self.target}@{host}>{to_tag}\r\n"
               f"Call-ID: {self.call_id}\r\nCSeq: {cseq} {method if method != 'ACK' else 'ACK'}\r\n"
               f"Contact: <sip:{self.user}@127.0.0.1:{local_port}>\r\nMax-Forwards: 70\r\n{extra}")
        if body:
            msg += f"Content-Type: application/sdp\r\nContent-Length: {len(body)}\r\n\r\n{body}"
        else:
            msg += "Content-Length: 0\r\n\r\n"
        sock.sendto(msg.encode(), server)
        return branch, cseq

    def final(self, cseq, method):
        while True:
            head, body = receive()
            if header(head, "Call-ID") != self.call_id or header(head, "CSeq") != f"{cseq} {method}":
                continue
            status = int(head.split(" ", 2)[1])
            if status >= 200:
                return status, head, body

    def invite(self, extra=""):
        branch, cseq = self.request("INVITE", extra=extra, body=make_sdp())
        status, head, _ = self.final(cseq, "INVITE")
        if status == 407:
            # ACK the 407 in its transaction (same branch and CSeq, its To tag), then answer the challenge.
            self.remote_tag = re.search(r"(?im)^To\s*:.*;tag=([^;\s>]+)", head).group(1)
            self.request("ACK", branch=branch, cseq=cseq)
            self.remote_tag = None
            challenges = re.findall(r"(?im)^Proxy-Authenticate\s*:\s*Digest\s+(.*)$", head)
            chosen = next((c for c in challenges if "sha" not in c.lower()), None)
            if chosen is None:
                fail("no MD5 challenge: " + head)
            params = dict(re.findall(r'(\w+)="?([^",]*)"?', chosen))
            uri = f"sip:{self.target}@{host}:{port}"
            cnonce, nc = uuid.uuid4().hex[:16], "00000001"
            ha1 = hashlib.md5(f"{self.user}:{params['realm']}:{self.password}".encode()).hexdigest()
            ha2 = hashlib.md5(f"INVITE:{uri}".encode()).hexdigest()
            if "auth" in params.get("qop", ""):
                response = hashlib.md5(f"{ha1}:{params['nonce']}:{nc}:{cnonce}:auth:{ha2}".encode()).hexdigest()
                qop = f", qop=auth, nc={nc}, cnonce=\"{cnonce}\""
            else:
                response = hashlib.md5(f"{ha1}:{params['nonce']}:{ha2}".encode()).hexdigest()
                qop = ""
            auth = (f'Proxy-Authorization: Digest username="{self.user}", realm="{params["realm"]}", nonce="{params["nonce"]}", '
                    f'uri="{uri}", response="{response}", algorithm=MD5{qop}\r\n')
            branch, cseq = self.request("INVITE", extra=extra + auth, body=make_sdp())
            status, head, _ = self.final(cseq, "INVITE")
        if status != 200:
            fail(f"INVITE to {self.target}: {status}")
        self.remote_tag = re.search(r"(?im)^To\s*:.*;tag=([^;\s>]+)", head).group(1)
        self.request("ACK", cseq=cseq)
        print("connected", self.target, self.call_id, flush=True)


b = Dialog(b_number)
b.invite()
if mode == "replaces":
    time.sleep(0.3)
    x = Dialog(b_number, x_user, x_password)
    x.invite(extra=f"Replaces: {b.call_id};to-tag={b.remote_tag};from-tag={b.tag}\r\n")
    while time.time() < deadline and not [r for r in received_requests if r[0] == "BYE" and r[1] == b.call_id]:
        try:
            data, _ = sock.recvfrom(65535)
        except socket.timeout:
            continue
        head, _, body = data.decode(errors="replace").partition("\r\n\r\n")
        if not head.startswith("SIP/2.0 "):
            answer_request(head, body)
    if not [r for r in received_requests if r[0] == "BYE" and r[1] == b.call_id]:
        fail("the replaced dialog got no BYE")
    time.sleep(1.5)
    _, cseq = x.request("BYE")
    status, _, _ = x.final(cseq, "BYE")
    print("bye", status, flush=True)
    if status != 200:
        fail(f"BYE: {status}")
    print("OK", flush=True)
    sys.exit(0)
c = Dialog(c_number)
c.invite()
time.sleep(0.3)
replaces = f"{c.call_id};to-tag={c.remote_tag};from-tag={c.tag}"
escaped = replaces.replace("@", "%40").replace(";", "%3B").replace("=", "%3D")
_, cseq = b.request("REFER", extra=f"Refer-To: <sip:{c_number}@{host}?Replaces={escaped}>\r\nReferred-By: <sip:{user}@{host}>\r\n")
status, _, _ = b.final(cseq, "REFER")
print("refer", status, flush=True)
if status != 202:
    fail(f"REFER: {status}")
# Wait for the final NOTIFY in the call with B and Tandem's BYE in the consultation call.
while time.time() < deadline:
    finals = [r for r in received_requests if r[0] == "NOTIFY" and r[1] == b.call_id and "terminated" in r[2].lower()]
    bye_c = [r for r in received_requests if r[0] == "BYE" and r[1] == c.call_id]
    if finals and bye_c:
        break
    try:
        data, _ = sock.recvfrom(65535)
    except socket.timeout:
        continue
    head, _, body = data.decode(errors="replace").partition("\r\n\r\n")
    if not head.startswith("SIP/2.0 "):
        answer_request(head, body)
finals = [r for r in received_requests if r[0] == "NOTIFY" and r[1] == b.call_id and "terminated" in r[2].lower()]
if not finals or not finals[-1][3].startswith("SIP/2.0 200"):
    fail("no final NOTIFY 200: " + repr([r[3] for r in received_requests if r[0] == "NOTIFY"]))
if not [r for r in received_requests if r[0] == "BYE" and r[1] == c.call_id]:
    fail("the consultation dialog was not ended by Tandem")
print("notify", finals[-1][3].split("\r\n")[0], flush=True)
_, cseq = b.request("BYE")
status, _, _ = b.final(cseq, "BYE")
print("bye", status, flush=True)
if status != 200:
    fail(f"BYE: {status}")
print("OK", flush=True)
