"""Janus AudioBridge driver for perf/conference/conference.py: rooms and plain-RTP participants over
the Janus HTTP API (janus.plugin.audiobridge, Janus 1.1).

One Janus session for the whole run (the server runs with session_timeout = 0, so it needs no
keep-alives); one plugin handle per participant plus one for creating rooms. A room is created with
`create` (sampling_rate 16000, allow_rtp_participants); a participant joins with `join` and an `rtp`
object naming the generator's socket; the `joined` event, fetched by long poll on the session,
carries the `rtp` object with the port AudioBridge expects that participant's RTP on.
AudioBridge starts sending a participant's mix only after it has received RTP from them.
"""
import http.client
import json
import os
import time

OPUS_PT = 111


class JanusError(RuntimeError):
    pass


class JanusDriver:
    name = "janus"

    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.counter = 0
        self.prefix = os.urandom(3).hex()
        self.session = self._post("/janus", {"janus": "create"})["data"]["id"]
        self.admin = self._attach()
        self.rooms = {}

    # -- HTTP plumbing ---------------------------------------------------------------------------
    def _transaction(self):
        self.counter += 1
        return f"{self.prefix}{self.counter}"

    def _request(self, method, path, body=None):
        payload = json.dumps(body).encode() if body is not None else None
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=payload, headers={"Content-Type": "application/json"} if payload else {})
                response = self.conn.getresponse()
                data = response.read()
                return json.loads(data)
            except (http.client.HTTPException, ConnectionError):
                if attempt:
                    raise
                self.conn.close()

    def _post(self, path, body):
        body = dict(body, transaction=self._transaction())
        reply = self._request("POST", path, body)
        if reply.get("janus") == "error":
            raise JanusError(f"{body.get('janus')}: {reply.get('error')}")
        return reply

    def _attach(self):
        reply = self._post(f"/janus/{self.session}", {"janus": "attach", "plugin": "janus.plugin.audiobridge"})
        return reply["data"]["id"]

    def _sync(self, handle, body):
        reply = self._post(f"/janus/{self.session}/{handle}", {"janus": "message", "body": body})
        data = reply.get("plugindata", {}).get("data", {})
        if "error_code" in data:
            raise JanusError(f"{body.get('request')}: {data.get('error')}")
        return data

    def _events(self, wanted, deadline_s=60):
        """Long-polls the session until `wanted` (a set of handle ids) have each sent a joined event."""
        found = {}
        deadline = time.monotonic() + deadline_s
        while wanted - found.keys():
            if time.monotonic() > deadline:
                raise JanusError(f"no joined event from {len(wanted - found.keys())} participant(s)")
            events = self._request("GET", f"/janus/{self.session}?maxev=100&rid={self._transaction()}")
            if isinstance(events, dict):
                events = [events]
            for event in events:
                if event.get("janus") != "event":
                    continue
                data = event.get("plugindata", {}).get("data", {})
                sender = event.get("sender")
                if "error_code" in data and sender in wanted:
                    raise JanusError(f"join: {data.get('error')}")
                if data.get("audiobridge") == "joined" and "rtp" in data and sender in wanted:
                    found[sender] = data
        return found

    # -- the interface conference.py uses -----------------------------------------------------
    def create_room(self, room_index, size, talkers):
        room_id = 1000 + room_index
        self._sync(self.admin, {"request": "create", "room": room_id, "sampling_rate": 16000,
                                "allow_rtp_participants": True, "audiolevel_ext": False, "record": False})
        self.rooms[room_index] = room_id
        return room_id

    def join_all(self, joins, codec):
        """joins: list of (participant index, room index, local port). Returns {participant: (ip, port, pt)}."""
        handles = {}
        batch = 50
        result = {}
        for start in range(0, len(joins), batch):
            chunk = joins[start:start + batch]
            for index, room_index, port in chunk:
                handle = self._attach()
                handles[handle] = index
                rtp = {"ip": "127.0.0.1", "port": port}
                if codec == "opus":
                    rtp.update(payload_type=OPUS_PT, fec=False)
                self._post(f"/janus/{self.session}/{handle}", {"janus": "message", "body": {
                    "request": "join", "room": self.rooms[room_index], "id": 100000 + index,
                    "display": f"p{index}", "muted": False, "codec": codec, "rtp": rtp}})
            joined = self._events({h for h, i in handles.items() if i in {c[0] for c in chunk}})
            for handle, data in joined.items():
                rtp = data["rtp"]
                result[handles[handle]] = (rtp["ip"], int(rtp["port"]), int(rtp.get("payload_type", OPUS_PT if codec == "opus" else 0)))
        return result

    def room_stats(self):
        return {}

    def close(self):
        for room_id in self.rooms.values():
            try:
                self._sync(self.admin, {"request": "destroy", "room": room_id})
            except Exception:
                pass
        self.conn.close()
