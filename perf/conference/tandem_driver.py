"""Tandem driver for perf/conference/conference.py: rooms and participants through the conference
commands of `tandem media`'s ng control socket (bencoded dictionaries over UDP, cookie first).

Commands (issue #6; kept in this one file so that details can be fixed here when they land):
  conference join     room, participant, sdp (offer: one m=audio line with the participant's
                      address/port and codec), room-rate, max-talkers -> result ok, sdp (answer:
                      Tandem's address/port for this participant and the chosen codec); the room is
                      created on its first join; with ROOM_WORKERS > 1 in the environment, also
                      room-workers (the room is spread over that many media workers)
  conference leave    room, participant
  conference destroy  room
  conference query    room -> statistics
Until they exist the server answers `result: error` with `error-reason: Unrecognized command`;
`supported()` tells that apart from an error about the room.
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "relay"))
from ng_setup import NGClient  # noqa: E402

OPUS_PT = 111
ROOM_RATE = 16000
MAX_TALKERS = 4
# ROOM_WORKERS > 1 asks Tandem to spread each room over that many media workers (`room-workers`).
ROOM_WORKERS = int(os.environ.get("ROOM_WORKERS", "1"))


class TandemError(RuntimeError):
    pass


def offer_sdp(port, codec, session_id):
    if codec == "opus":
        formats = f"{OPUS_PT}"
        attributes = [f"a=rtpmap:{OPUS_PT} opus/48000/2", f"a=fmtp:{OPUS_PT} useinbandfec=0; usedtx=0"]
    else:
        formats = "0"
        attributes = ["a=rtpmap:0 PCMU/8000"]
    lines = ["v=0", f"o=- {session_id} 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
             f"m=audio {port} RTP/AVP {formats}", *attributes, "a=ptime:20", "a=sendrecv"]
    return "\r\n".join(lines) + "\r\n"


def parse_answer(sdp):
    """(ip, port, payload type) of the answer's audio line; a media-level c= wins over the session's."""
    ip, port, pt = None, None, None
    in_audio = False
    for line in sdp.splitlines():
        line = line.strip()
        if line.startswith("m="):
            in_audio = line.startswith("m=audio")
            if in_audio:
                parts = line.split()
                port, pt = int(parts[1]), int(parts[3])
        elif line.startswith("c=") and (in_audio or ip is None):
            match = re.match(r"c=IN IP[46] (\S+)", line)
            if match:
                ip = match.group(1).split("/")[0]
    if ip is None or port is None:
        raise TandemError(f"answer without an audio address: {sdp!r}")
    return ip, port, pt


class TandemDriver:
    name = "tandem"

    def __init__(self, address):
        self.ng = NGClient(address)
        self.rooms = {}
        self.sizes = {}

    def _call(self, message):
        reply = self.ng.request(message, timeout=5.0)
        if reply.get("result") != "ok":
            raise TandemError(f"{message['command']}: {reply.get('error-reason', reply)}")
        return reply

    def supported(self):
        """(True, "") when the conference commands exist, else (False, the server's reason)."""
        reply = self.ng.request({"command": "conference query", "room": "perf-probe-nonexistent"}, timeout=5.0)
        reason = str(reply.get("error-reason", ""))
        if reply.get("result") == "error" and "command" in reason.lower():
            return False, reason
        return True, ""

    def create_room(self, room_index, size, talkers):
        name = f"perf-{os.getpid()}-{room_index}"
        self.rooms[room_index] = name
        self.sizes[room_index] = size
        return name

    def join_all(self, joins, codec):
        """joins: list of (participant index, room index, local port). Returns {participant: (ip, port, pt)}."""
        result = {}
        for index, room_index, port in joins:
            request = {"command": "conference join", "room": self.rooms[room_index],
                       "participant": f"p{index}", "sdp": offer_sdp(port, codec, 1000 + index),
                       "room-rate": ROOM_RATE, "max-talkers": MAX_TALKERS,
                       "max-participants": max(200, self.sizes.get(room_index, 0))}
            if ROOM_WORKERS > 1:
                request["room-workers"] = ROOM_WORKERS
            reply = self._call(request)
            ip, rport, pt = parse_answer(reply["sdp"])
            result[index] = (ip, rport, pt if pt is not None else (OPUS_PT if codec == "opus" else 0))
        return result

    def room_stats(self):
        """The first room's `conference query` reply, for the log (None when it fails)."""
        for name in list(self.rooms.values())[:1]:
            try:
                return self._call({"command": "conference query", "room": name})
            except Exception as error:  # statistics are informative only
                return {"error": str(error)}
        return None

    def close(self):
        for name in self.rooms.values():
            try:
                self._call({"command": "conference destroy", "room": name})
            except Exception:
                pass
