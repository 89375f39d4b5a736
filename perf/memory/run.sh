#!/usr/bin/env bash
# perf/run memory: resident memory per relayed call at 1,000 calls, `tandem media` vs rtpengine
# (userspace). Each relay: start it, read its VmRSS, set up the calls through ng, push about 100
# packets through every stream (so latching and per-stream state are real), read VmRSS again;
# (after - before) / calls. Kernel socket buffers are not part of a process's RSS, so they are
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
trap 'exit 143' TERM INT
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
echo "Load: $calls G.711 calls set up through ng (offer + answer), then 2 s of RTP on all $((2 * calls)) streams; relays with one media worker thread."
echo ""
: > "$work/results"
for kind in $relays; do
  start_relay "$kind" 1 "$work/$kind.log"
  rss0=$(status_kib "$RELAY_PID" VmRSS)
  anon0=$(status_kib "$RELAY_PID" RssAnon)
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
  echo "$kind $rss0 $rss1 $anon0 $anon1 $threads $(field "$line" loss_pct)" >> "$work/results"
  stop_started
done

python3 - "$work/results" "$calls" <<'PY'
import sys
names = {"tandem": "tandem media, 1 worker", "rtpengine": "rtpengine userspace, 1 worker"}
calls = int(sys.argv[2])
rows = {}
for line in open(sys.argv[1]):
    kind, rss0, rss1, anon0, anon1, threads, loss = line.split()
    rows[kind] = dict(rss0=int(rss0), rss1=int(rss1), anon0=int(anon0), anon1=int(anon1), threads=int(threads), loss=float(loss))
print(f"| relay | VmRSS idle | VmRSS with {calls} calls | KiB per call (VmRSS) | KiB per call (RssAnon) | threads | loss while pushing |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for kind, r in rows.items():
    r["per"] = (r["rss1"] - r["rss0"]) / calls
    print(f"| {names[kind]} | {r['rss0']} KiB | {r['rss1']} KiB | {r['per']:.2f} | {(r['anon1'] - r['anon0']) / calls:.2f} "
          f"| {r['threads']} | {r['loss']:.3f} % |")
print("")
for kind, r in rows.items():
    print(f"RESULT memory.{kind}.kib_per_call {r['per']:.2f} KiB")
if "tandem" in rows and "rtpengine" in rows and rows["rtpengine"]["per"] > 0:
    print(f"RESULT memory.kib_per_call.tandem/rtpengine {rows['tandem']['per'] / rows['rtpengine']['per']:.3f}")
PY
