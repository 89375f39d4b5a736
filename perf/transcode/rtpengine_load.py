#!/usr/bin/env python3
"""Drives N PCMU<->Opus 20 ms calls through rtpengine (userspace) and prints its CPU per call-second.

Usage: rtpengine_load.py NG_PORT RTPENGINE_PID PKTS_DIR CALLS SECONDS
Each call: leg A offers PCMU with ng `codec: {transcode: [opus]}`, leg B answers Opus only, so rtpengine
decodes PCMU and encodes Opus one way and the reverse the other. A sends the precomputed PCMU payloads and
B the precomputed Opus payloads (written by tandem-transcode-perf --write), 50 packets/s each.
Prints `RTPENGINE <cpu µs per call-second> <packets A->B seen> <packets B->A seen> <opus_pt_ok> <pcmu_pt_ok>`.
"""
import os, random, re, select, socket, struct, sys, time

def bencode(v):
    if isinstance(v, int): return b"i%de" % v
    if isinstance(v, str): v = v.encode()
    if isinstance(v, bytes): return b"%d:%s" % (len(v), v)
    if isinstance(v, list): return b"l" + b"".join(bencode(x) for x in v) + b"e"
    if isinstance(v, dict): return b"d" + b"".join(bencode(k) + bencode(v[k]) for k in sorted(v)) + b"e"
    raise TypeError(v)

def bdecode(b, i=0):
    c = b[i:i+1]
    if c == b"i":
        j = b.index(b"e", i); return int(b[i+1:j]), j + 1
    if c == b"l":
        i += 1; out = []
        while b[i:i+1] != b"e":
            x, i = bdecode(b, i); out.append(x)
        return out, i + 1
    if c == b"d":
        i += 1; out = {}
        while b[i:i+1] != b"e":
            k, i = bdecode(b, i); v, i = bdecode(b, i); out[k.decode()] = v
        return out, i + 1
    j = b.index(b":", i); n = int(b[i:j]); return b[j+1:j+1+n], j + 1 + n

ng_port, pid, pkts_dir, calls, seconds = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
ng = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
ng.settimeout(5)

def ng_call(msg):
    cookie = b"%08x" % random.getrandbits(32)
    ng.sendto(cookie + b" " + bencode(msg), ("127.0.0.1", ng_port))
    while True:
        data, _ = ng.recvfrom(65536)
        if data.startswith(cookie + b" "):
            res, _ = bdecode(data[len(cookie) + 1:])
            if res.get("result") != b"ok":
                raise SystemExit("ng error: %r" % res)
            return res

def read_pkts(name):
    data = open(os.path.join(pkts_dir, name), "rb").read()
    out, i = [], 0
    while i < len(data):
        n = struct.unpack(">H", data[i:i+2])[0]; out.append(data[i+2:i+2+n]); i += 2 + n
    return out

pcmu, opus = read_pkts("pcmu.pkts"), read_pkts("opus.pkts")

def sdp(port, media):
    return ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" + media.replace("PORT", str(port))).encode()

legs = []
for c in range(calls):
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("127.0.0.1", 0)); a.setblocking(False)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.bind(("127.0.0.1", 0)); b.setblocking(False)
    call_id = "perf-%d-%d" % (os.getpid(), c)
    offer = ng_call({"command": "offer", "call-id": call_id, "from-tag": "a%d" % c,
                     "sdp": sdp(a.getsockname()[1], "m=audio PORT RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
                                "a=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n"),
                     "codec": {"transcode": ["opus"]}, "replace": ["origin", "session-connection"]})
    offered = offer["sdp"].decode()
    port_for_b = int(re.search(r"m=audio (\d+)", offered).group(1))
    opus_pt = int(re.search(r"a=rtpmap:(\d+) opus/48000", offered).group(1))
    answer = ng_call({"command": "answer", "call-id": call_id, "from-tag": "a%d" % c, "to-tag": "b%d" % c,
                      "sdp": sdp(b.getsockname()[1], "m=audio PORT RTP/AVP %d\r\na=rtpmap:%d opus/48000/2\r\n"
                                 "a=fmtp:%d useinbandfec=1\r\na=ptime:20\r\n" % (opus_pt, opus_pt, opus_pt))})
    answered = answer["sdp"].decode()
    port_for_a = int(re.search(r"m=audio (\d+)", answered).group(1))
    legs.append((a, b, port_for_a, port_for_b, opus_pt, call_id, c))
if calls:
    sys.stderr.write("offer to B:\n" + offered + "answer to A:\n" + answered)

def cpu_seconds(p):
    f = open("/proc/%d/stat" % p).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

seen = {"a": 0, "b": 0, "opus_ok": True, "pcmu_ok": True}
def drain():
    for a, b, pa, pb, opus_pt, cid, c in legs:
        for sock, key, pt in ((a, "a", 0), (b, "b", opus_pt)):
            while True:
                try: d = sock.recv(2048)
                except BlockingIOError: break
                seen[key] += 1
                if d[1] & 0x7F != pt:
                    seen["opus_ok" if key == "b" else "pcmu_ok"] = False

warm = 2.0
start = time.monotonic()
frame = 0
cpu0 = None
t_measure = None
ssrc_a = [random.getrandbits(32) for _ in legs]
ssrc_b = [random.getrandbits(32) for _ in legs]
while True:
    due = start + frame * 0.02
    now = time.monotonic()
    if due > now: time.sleep(due - now)
    if cpu0 is None and frame * 0.02 >= warm:
        cpu0 = cpu_seconds(pid); t_measure = time.monotonic(); seen["a"] = seen["b"] = 0
    if frame * 0.02 >= warm + seconds: break
    i = frame % len(pcmu)
    for k, (a, b, pa, pb, opus_pt, cid, c) in enumerate(legs):
        hdr_a = struct.pack(">BBHII", 0x80, 0, frame & 0xFFFF, frame * 160 & 0xFFFFFFFF, ssrc_a[k])
        hdr_b = struct.pack(">BBHII", 0x80, opus_pt, frame & 0xFFFF, frame * 960 & 0xFFFFFFFF, ssrc_b[k])
        a.sendto(hdr_a + pcmu[i], ("127.0.0.1", pa))
        b.sendto(hdr_b + opus[i], ("127.0.0.1", pb))
    if frame % 5 == 0: drain()
    frame += 1
cpu1 = cpu_seconds(pid)
elapsed = time.monotonic() - t_measure
drain()
for a, b, pa, pb, opus_pt, cid, c in legs:
    try: ng_call({"command": "delete", "call-id": cid, "from-tag": "a%d" % c})
    except Exception: pass
per_call_second = (cpu1 - cpu0) / (calls * elapsed) * 1e6
print("RTPENGINE %.1f %d %d %s %s %.2f" % (per_call_second, seen["b"], seen["a"], seen["opus_ok"], seen["pcmu_ok"], elapsed))
