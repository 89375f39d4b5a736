#!/usr/bin/env bash
# perf/run conference: audio conference mixing, Janus AudioBridge vs `tandem media` (ng conference
# commands), the same load generator (perf/conference/confgen.c) on the same machine in one run.
# Server on CPU 1, load generator on CPU 0 (both SCHED_FIFO when allowed, as in perf/relay).
#
# Cases (each for every server, a fresh server process per measurement):
#   five_party_pcmu / five_party_opus   many 5-party rooms, everyone talking
#   large_room_pcmu / large_room_opus   one 100-party room, 4 talkers, 96 sending quiet background
# Rooms mix at 16 kHz. Figures per case: server CPU µs per participant per 20 ms (utime+stime over
# the window / participant-frames), participants per core (20,000 µs / that), packet loss at the
# receivers, added audio delay (tone-burst onset, p50/p95, first vs last third of the window).
#
# Environment: ROOMS_PCMU (40 five-party rooms), ROOMS_OPUS (12), LARGE_SIZE (100), LARGE_TALKERS
# (4), WARMUP (4 s), WINDOW (10 s), RUNS (3; the median run by CPU stands), PROBES (100 decoded
# listeners), SERVERS ("janus tandem"), CASES (all four), TANDEM_BINARY (skip the release build),
# RAMP (e.g. "20 40 60 80": also run five_party_pcmu at these room counts and large rooms of the
# sizes in RAMP_LARGE, to find the most participants per core with loss < 0.1 % and no growing delay).
# TANDEM_WORKERS (1) media workers for tandem, TANDEM_CPUS (1) its taskset CPU list, ROOM_WORKERS (1; read by
# tandem_driver.py) workers each room is spread over (`room-workers`).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(dirname "$here")"
. "$here/relay/lib.sh"
if [ -z "${PERF_CONF_BOUNDED:-}" ]; then
  "$root/scripts/setup"
  TANDEM_BINARY="$(tandem_binary)"
  export TANDEM_BINARY PERF_CONF_BOUNDED=1
  exec timeout -k 30 "${TIME_LIMIT:-2400}" "$0" "$@"
fi

rooms_pcmu=${ROOMS_PCMU:-40}
rooms_opus=${ROOMS_OPUS:-12}
large_size=${LARGE_SIZE:-100}
large_talkers=${LARGE_TALKERS:-4}
warmup=${WARMUP:-4}
window=${WINDOW:-10}
runs=${RUNS:-3}
probes=${PROBES:-100}
servers=${SERVERS:-"janus tandem"}
cases=${CASES:-"five_party_pcmu five_party_opus large_room_pcmu large_room_opus"}

work="$(mktemp -d)"
trap 'stop_started; rm -rf "$work"' EXIT
trap 'echo "perf/run: stopped (time limit or signal); stopping what it started" >&2; exit 143' TERM INT
gcc -O2 -Wall -o "$work/confgen" "$here/conference/confgen.c" -lopus -lm

# Ports: the servers' RTP in 42000-51999, Janus HTTP and Tandem ng on a random port (other runs on
# this machine may hold fixed ones); the generator's sockets are ephemeral.
rtp_range=42000-51999
control_port=$((52000 + RANDOM % 8000))
SERVER_PID=""

if [[ " $servers " == *" janus "* ]] && ! command -v janus > /dev/null; then
  echo "perf/run conference: janus is not installed (apt-get install janus); Janus is left out" >&2
  servers=${servers//janus/}
fi
tandem_reason=""
if [[ " $servers " == *" tandem "* ]] && ! tandem_has_media "$TANDEM_BINARY"; then
  tandem_reason="$TANDEM_BINARY has no 'media' subcommand"
fi

# start_server KIND: starts Janus or tandem media pinned to CPU 1 and waits until it answers.
start_server() {
  local kind=$1 log="$work/$1.log" deadline
  case "$kind" in
    janus)
      mkdir -p "$work/janus"
      for f in "$here"/conference/janus/*.jcfg; do
        sed -e "s#@WORK@#$work#; s#@HTTP_PORT@#$control_port#; s#@RTP_RANGE@#$rtp_range#" "$f" > "$work/janus/$(basename "$f")"
      done
      "${RT[@]}" taskset -c 1 janus -F "$work/janus" -C "$work/janus/janus.jcfg" -o > "$log" 2>&1 &
      SERVER_PID=$!
      STARTED_PIDS+=("$SERVER_PID")
      deadline=$((SECONDS + 20))
      until curl -sf -o /dev/null -X POST -d '{"janus":"ping","transaction":"p"}' "http://127.0.0.1:$control_port/janus"; do
        if ! kill -0 "$SERVER_PID" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
          echo "perf/run conference: Janus did not start:" >&2; tail -20 "$log" >&2; return 1
        fi
        sleep 0.1
      done
      ;;
    tandem)
      "${RT[@]}" taskset -c "${TANDEM_CPUS:-1}" "$TANDEM_BINARY" media --ng 127.0.0.1:$control_port --interface 127.0.0.1 \
        --rtp-ports $rtp_range --workers "${TANDEM_WORKERS:-1}" --no-pin --log-level error > "$log" 2>&1 &
      SERVER_PID=$!
      STARTED_PIDS+=("$SERVER_PID")
      timeout 20 python3 "$here/relay/ng_setup.py" --ng 127.0.0.1:$control_port --wait 10
      ;;
  esac
}

# measure KIND LABEL CODEC ROOMS SIZE TALKERS RUN: one measurement on a fresh server; appends to results.
measure() {
  local kind=$1 label=$2 codec=$3 rooms=$4 size=$5 talkers=$6 run=$7 status=0 line
  start_server "$kind"
  line=$(timeout $((warmup + window + 240)) python3 "$here/conference/conference.py" --server "$kind" \
    --control 127.0.0.1:$control_port --server-pid "$SERVER_PID" --confgen "$work/confgen" --codec "$codec" \
    --rooms "$rooms" --size "$size" --talkers "$talkers" --warmup "$warmup" --window "$window" --probes "$probes" \
    --label "$label" --cpu-prefix "${RT[*]} taskset -c 0" 2>> "$work/driver.log") || status=$?
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "perf/run conference: $kind exited during $label:" >&2; tail -20 "$work/$kind.log" >&2
    status=1
  fi
  stop_started
  if [ "$status" = 3 ]; then
    tandem_reason="$(tail -1 "$work/driver.log" | sed 's/^conference: //')"
    return 0
  fi
  if [ "$status" != 0 ]; then
    echo "perf/run conference: $kind $label run $run failed:" >&2; tail -5 "$work/driver.log" >&2
    return 0
  fi
  echo "$line run=$run" >> "$work/results"
  echo "$kind $label run $run: ${line#* * confgen }" >&2
}

echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs; $(date -u +%Y-%m-%d); janus $(dpkg-query -W -f='${Version}' janus 2>/dev/null || echo '?'); libopus $(dpkg-query -W -f='${Version}' libopus0 2>/dev/null || echo '?')"
echo "Load: every participant one UDP socket, one 20 ms RTP packet every 20 ms (PCMU, or Opus 24 kbit/s mono), symmetric RTP; rooms mix at 16 kHz; warm-up ${warmup} s, window ${window} s, ${runs} run(s); server pinned to CPU 1, load generator to CPU 0${RT[*]:+, both under ${RT[*]}}."
echo "Signals: talkers send a 400 ms tone burst (400+130k Hz, -18 dBFS peak) every second over -60 dBFS noise; non-talkers send the noise alone, continuously (as endpoints without VAD do), so both servers receive every participant all the time."
echo ""

: > "$work/results"
: > "$work/driver.log"
case_args() {
  case "$1" in
    five_party_pcmu) echo "pcmu $rooms_pcmu 5 5" ;;
    five_party_opus) echo "opus $rooms_opus 5 5" ;;
    large_room_pcmu) echo "pcmu 1 $large_size $large_talkers" ;;
    large_room_opus) echo "opus 1 $large_size $large_talkers" ;;
  esac
}
for run in $(seq "$runs"); do
  for c in $cases; do
    for kind in $servers; do
      if [ "$kind" = tandem ] && [ -n "$tandem_reason" ]; then continue; fi
      read -r codec rooms size talkers <<< "$(case_args "$c")"
      measure "$kind" "$c" "$codec" "$rooms" "$size" "$talkers" "$run"
    done
  done
done
if [ -n "${RAMP:-}" ]; then
  for kind in $servers; do
    if [ "$kind" = tandem ] && [ -n "$tandem_reason" ]; then continue; fi
    for r in $RAMP; do measure "$kind" "ramp_five_party_pcmu_$((r * 5))" pcmu "$r" 5 5 1; done
    for r in ${RAMP_OPUS:-}; do measure "$kind" "ramp_five_party_opus_$((r * 5))" opus "$r" 5 5 1; done
    for s in ${RAMP_LARGE:-}; do measure "$kind" "ramp_large_room_pcmu_$s" pcmu 1 "$s" "$large_talkers" 1; done
    for s in ${RAMP_LARGE_OPUS:-}; do measure "$kind" "ramp_large_room_opus_$s" opus 1 "$s" "$large_talkers" 1; done
  done
fi

if [ -n "$tandem_reason" ]; then
  echo "Tandem: skipped — $tandem_reason. The Tandem driver (perf/conference/tandem_driver.py) needs the ng commands 'conference join/leave/destroy/query'."
  echo ""
fi
python3 "$here/conference/report.py" "$work/results"
