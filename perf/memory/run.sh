#!/usr/bin/env bash
# perf/run memory: resident memory per relayed call at 1,000 calls, `tandem media` vs rtpengine
# (userspace). Each relay is started twice on one media worker thread:
#   1. with a port range of 2 pairs, idle: its baseline VmRSS with (almost) no preallocated tables;
#   2. with a range just large enough for the calls (2,200 pairs; rtpengine takes 2 pairs per call),
#      idle VmRSS read, the calls set up through ng, about 100 packets pushed through every stream
#      (so latching and per-stream state are real), VmRSS read again.
# KiB per call = (VmRSS with the calls - baseline VmRSS) / calls: tables a relay allocates up front
# for its port range count against the calls they serve. The plain growth from the same process's
# idle VmRSS is shown beside it. Kernel socket buffers are not part of a process's RSS, so they are
# excluded by construction. Environment: CALLS (1000), TANDEM_BINARY (skip the release build).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(dirname "$here")"
. "$here/relay/lib.sh"
# Set-up and the release build come first; the measuring part then runs bounded in time.
if [ -z "${PERF_MEMORY_BOUNDED:-}" ]; then
  "$root/scripts/setup"
  TANDEM_BINARY="$(tandem_binary)"
  export TANDEM_BINARY PERF_MEMORY_BOUNDED=1
  exec timeout -k 30 "${TIME_LIMIT:-600}" "$0" "$@"
fi

calls=${CALLS:-1000}

TANDEM="$TANDEM_BINARY"
work="$(mktemp -d)"
BIN="$work"
trap 'stop_started; rm -rf "$work"' EXIT
trap 'echo "perf/run: stopped (time limit or signal); stopping what it started" >&2; exit 143' TERM INT
build_tools

relays="tandem rtpengine"
if ! tandem_has_media "$TANDEM"; then
  echo "perf/run memory: $TANDEM has no 'media' subcommand; Tandem is left out of this run" >&2
  relays="rtpengine"
fi

# status_kib PID FIELD: a /proc/PID/status figure in KiB (VmRSS, RssAnon, ...).
status_kib() {
  awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs; $(date -u +%Y-%m-%d); rtpengine $(dpkg-query -W -f='${Version}' rtpengine-daemon 2>/dev/null)"
echo "Load: $calls G.711 calls set up through ng (offer + answer), then 2 s of RTP on all $((2 * calls)) streams; relays with one media worker thread, RTP ports $RELAY_PORTS_MIN-$((RELAY_PORTS_MIN + 4 * (calls + calls / 10) - 1))."
echo ""
: > "$work/results"
full_max=$((RELAY_PORTS_MIN + 4 * (calls + calls / 10) - 1))
for kind in $relays; do
  RELAY_PORTS_MAX=$((RELAY_PORTS_MIN + 3))
  start_relay "$kind" 1 "$work/$kind.base.log"
  base=$(status_kib "$RELAY_PID" VmRSS)
  base_anon=$(status_kib "$RELAY_PID" RssAnon)
  stop_started

  RELAY_PORTS_MAX=$full_max
  start_relay "$kind" 1 "$work/$kind.log"
  rss0=$(status_kib "$RELAY_PID" VmRSS)
  timeout 300 python3 "$here/relay/ng_setup.py" --ng 127.0.0.1:$NG_PORT --calls "$calls" \
    --local-base $LOCAL_BASE --out "$work/layout.$kind" --tag "memory-$kind"
  line=$(timeout 60 "${RT[@]}" taskset -c 0 "$BIN/loadgen" "$work/layout.$kind" 1 1 "$RELAY_PID")
  echo "$kind: $line" >&2
  if [ "$(field "$line" silent_streams)" != 0 ]; then
    echo "perf/run memory: $kind left $(field "$line" silent_streams) streams without a packet" >&2
    exit 1
  fi
  rss1=$(status_kib "$RELAY_PID" VmRSS)
  anon1=$(status_kib "$RELAY_PID" RssAnon)
  threads=$(ls "/proc/$RELAY_PID/task" | wc -l)
  echo "$kind $base $base_anon $rss0 $rss1 $anon1 $threads $(field "$line" loss_pct)" >> "$work/results"
  stop_started
done

python3 - "$work/results" "$calls" "$RELAY_PORTS_MIN-$full_max" <<'PY'
import sys
names = {"tandem": "tandem media, 1 worker", "rtpengine": "rtpengine userspace, 1 worker"}
calls = int(sys.argv[2])
rows = {}
for line in open(sys.argv[1]):
    kind, *numbers = line.split()
    base, base_anon, rss0, rss1, anon1, threads = (int(x) for x in numbers[:6])
    rows[kind] = dict(base=base, base_anon=base_anon, rss0=rss0, rss1=rss1, anon1=anon1, threads=threads, loss=float(numbers[6]))
print(f"| relay | VmRSS idle, 2-pair range | idle, range {sys.argv[3]} | with {calls} calls | KiB per call | (RssAnon) "
      "| (growth from idle) | threads | loss while pushing |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for kind, r in rows.items():
    r["per"] = (r["rss1"] - r["base"]) / calls
    print(f"| {names[kind]} | {r['base']} KiB | {r['rss0']} KiB | {r['rss1']} KiB | {r['per']:.2f} "
          f"| {(r['anon1'] - r['base_anon']) / calls:.2f} | {(r['rss1'] - r['rss0']) / calls:.2f} | {r['threads']} | {r['loss']:.3f} % |")
print("")
print("KiB per call: (VmRSS with the calls - VmRSS of the same relay idle with a 2-pair port range) / calls,")
print("so tables preallocated for the port range are charged to the calls. Kernel socket buffers are not in RSS.")
print("")
for kind, r in rows.items():
    print(f"RESULT memory.{kind}.kib_per_call {r['per']:.2f} KiB")
if "tandem" in rows and "rtpengine" in rows and rows["rtpengine"]["per"] > 0:
    print(f"RESULT memory.kib_per_call.tandem/rtpengine {rows['tandem']['per'] / rows['rtpengine']['per']:.3f}")
PY
