#!/usr/bin/env bash
# perf/run relay: CPU time per forwarded RTP packet at 300 and 600 concurrent G.711 calls, for the
# C forwarder floor, rtpengine (userspace, one worker thread) and `tandem media --workers 1`, with
# the same load generator on the same machine in one run. Relay on CPU 1, load generator on CPU 0.
# Environment: CALLS ("300 600"), WARMUP (3 s), WINDOW (10 s), RUNS (3; the median run by CPU per
# packet is reported), TANDEM_BINARY (skip the release build and use this binary).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(dirname "$here")"
. "$here/relay/lib.sh"
# Set-up and the release build come first; the measuring part then runs bounded in time.
if [ -z "${PERF_RELAY_BOUNDED:-}" ]; then
  "$root/scripts/setup"
  TANDEM_BINARY="$(tandem_binary)"
  export TANDEM_BINARY PERF_RELAY_BOUNDED=1
  exec timeout -k 30 "${TIME_LIMIT:-1800}" "$0" "$@"
fi

calls=${CALLS:-"300 600"}
warmup=${WARMUP:-3}
window=${WINDOW:-10}
runs=${RUNS:-3}

TANDEM="$TANDEM_BINARY"
work="$(mktemp -d)"
BIN="$work"
trap 'stop_started; rm -rf "$work"' EXIT
trap 'echo "perf/run: stopped (time limit or signal); stopping what it started" >&2; exit 143' TERM INT
build_tools

relays="cforwarder rtpengine tandem"
if ! tandem_has_media "$TANDEM"; then
  echo "perf/run relay: $TANDEM has no 'media' subcommand; Tandem is left out of this run" >&2
  relays="cforwarder rtpengine"
fi

echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs; $(date -u +%Y-%m-%d); rtpengine $(dpkg-query -W -f='${Version}' rtpengine-daemon 2>/dev/null)"
echo "Load: per call 2 G.711 streams (172-byte datagrams, 50/s each, symmetric RTP, one socket per side); warm-up ${warmup} s, window ${window} s, ${runs} run(s); relay pinned to CPU 1, load generator to CPU 0${RT[*]:+, both under ${RT[*]}}."
echo ""

: > "$work/results"
for run in $(seq "$runs"); do
  for n in $calls; do
    for kind in $relays; do
      layout="$work/layout.$kind.$n"
      if [ "$kind" = cforwarder ]; then
        forwarder_layout "$n" "$layout"
        start_relay "$kind" 1 "$work/$kind.log" "$layout"
      else
        start_relay "$kind" 1 "$work/$kind.log"
        timeout 120 python3 "$here/relay/ng_setup.py" --ng 127.0.0.1:$NG_PORT --calls "$n" \
          --local-base $LOCAL_BASE --out "$layout" --tag "$kind-$n-$run"
      fi
      line=$(timeout $((warmup + window + 30)) "${RT[@]}" taskset -c 0 "$BIN/loadgen" "$layout" "$warmup" "$window" "$RELAY_PID")
      if ! kill -0 "$RELAY_PID" 2>/dev/null; then
        echo "perf/run relay: $kind exited during the run:" >&2
        tail -20 "$work/$kind.log" >&2
        exit 1
      fi
      echo "$kind $n $run $line" >> "$work/results"
      echo "$kind $n calls, run $run: $line" >&2
      stop_started
    done
  done
done

python3 "$here/relay/report.py" "$work/results"
