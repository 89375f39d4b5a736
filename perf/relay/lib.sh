# Sourced by perf/relay/run.sh and perf/memory/run.sh: start the relays under test, stop them by PID.
# Ports: ng control on 15999, the load generator's sockets 16000-19999 (4 per call, up to 1000
# calls), the relays' RTP 20000-29999 (rtpengine takes 4 per call); all below the kernel's ephemeral range (32768+), so nothing else takes them.
LOCAL_BASE=${LOCAL_BASE:-16000}
RELAY_PORTS_MIN=20000
RELAY_PORTS_MAX=29999
NG_PORT=15999

STARTED_PIDS=()

# stop_started: TERM every process this script started, KILL what is left after 5 s.
stop_started() {
  local pid deadline
  for pid in "${STARTED_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  deadline=$((SECONDS + 5))
  for pid in "${STARTED_PIDS[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  STARTED_PIDS=()
}

# tandem_binary: TANDEM_BINARY when set, else a release build of this checkout.
tandem_binary() {
  if [ -n "${TANDEM_BINARY:-}" ]; then
    echo "$TANDEM_BINARY"
    return
  fi
  (cd "$root" && swift build -c release --product tandem >&2)
  echo "$(cd "$root" && swift build -c release --show-bin-path)/tandem"
}

# tandem_has_media BINARY: whether this Tandem build has the `media` subcommand.
tandem_has_media() {
  local help
  help=$("$1" media --help 2>&1 || true)
  [[ "$help" == *--rtp-ports* ]]
}

# The relay under test and the load generator run SCHED_FIFO when this user may (root), so that
# other work on a shared machine does not preempt them mid-window: it would show up as jitter and
# loss that are not the relay's. Applied equally to every relay; the kernel's RT throttling still
# leaves 5 % of each CPU to everything else.
if chrt -f 10 true 2>/dev/null; then RT=(chrt -f 10); else RT=(); fi

# start_relay KIND CPU LOG [LAYOUT]: starts rtpengine, tandem or cforwarder pinned to CPU, waits
# until it answers (ng ping, or the forwarder's "ready" line) and sets RELAY_PID.
# Both ng relays get one media worker thread; their helper threads run on the same CPU and count.
# rtpengine reads /etc/rtpengine/rtpengine.conf unless told not to (its CLI and HTTP ports would
# clash with any other rtpengine on the machine). Tandem pins its workers to CPUs by itself unless
# told not to (--no-pin), which would override the taskset. Both log errors only.
start_relay() {
  local kind=$1 cpu=$2 log=$3 layout=${4:-}
  case "$kind" in
    rtpengine)
      "${RT[@]}" taskset -c "$cpu" rtpengine --config-file=none --table=-1 --interface=127.0.0.1 --listen-ng=127.0.0.1:$NG_PORT \
        --port-min=$RELAY_PORTS_MIN --port-max=$RELAY_PORTS_MAX --foreground --log-stderr \
        --log-level=3 --num-threads=1 --media-num-threads=1 > "$log" 2>&1 &
      RELAY_PID=$!
      STARTED_PIDS+=("$RELAY_PID")
      timeout 20 python3 "$here/relay/ng_setup.py" --ng 127.0.0.1:$NG_PORT --wait 10
      ;;
    tandem)
      "${RT[@]}" taskset -c "$cpu" "$TANDEM" media --ng 127.0.0.1:$NG_PORT --interface 127.0.0.1 \
        --rtp-ports $RELAY_PORTS_MIN-$RELAY_PORTS_MAX --workers 1 --no-pin --log-level error > "$log" 2>&1 &
      RELAY_PID=$!
      STARTED_PIDS+=("$RELAY_PID")
      timeout 20 python3 "$here/relay/ng_setup.py" --ng 127.0.0.1:$NG_PORT --wait 10
      ;;
    cforwarder)
      "${RT[@]}" taskset -c "$cpu" "$BIN/forwarder" "$layout" > "$log" 2>&1 &
      RELAY_PID=$!
      STARTED_PIDS+=("$RELAY_PID")
      local deadline=$((SECONDS + 10))
      until grep -qs '^ready' "$log"; do
        if ! kill -0 "$RELAY_PID" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
          echo "perf: the C forwarder did not start:" >&2
          cat "$log" >&2
          return 1
        fi
        sleep 0.05
      done
      ;;
  esac
}

# forwarder_layout CALLS FILE: the C forwarder's fixed layout (relay ports base+4i and base+4i+2).
forwarder_layout() {
  python3 -c "
for i in range($1):
    print($LOCAL_BASE + 4 * i, $LOCAL_BASE + 4 * i + 2, '127.0.0.1', $RELAY_PORTS_MIN + 4 * i, $RELAY_PORTS_MIN + 4 * i + 2)
" > "$2"
}

# field LINE KEY: the value of KEY=value in a loadgen result line.
field() {
  echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# build_tools: compiles the load generator and the C forwarder into $BIN.
build_tools() {
  gcc -O2 -Wall -o "$BIN/loadgen" "$here/relay/loadgen.c"
  gcc -O2 -Wall -o "$BIN/forwarder" "$here/relay/forwarder.c"
}
