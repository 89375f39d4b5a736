#!/usr/bin/env bash
# perf/run soak — CALLS (default 1,000) simultaneous calls through Tandem's B2BUA with RTP relayed by its
# media engine, held DURATION seconds (default 300). Signalling: SIPp UAC/UAS (digest auth as in
# perf/b2bua), calls placed at SETUP_RATE calls/s; every call announces its own RTP ports on both sides.
# RTP: perf/relay's loadgen (C, epoll + sendmmsg/recvmmsg), 2 streams per call (caller->callee and back),
# 50 packets/s each, 20 ms PCMU. Checked: failed calls (SIPp), packets lost (loadgen: sent in the window vs
# received on the far side), the engine's own counters, and tandem's resident memory every 10 s.
# SIPp and loadgen on CPU 0, tandem on CPU 1 (1 media worker).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(dirname "$here")"
calls=${CALLS:-1000}
duration=${DURATION:-300}
setup_rate=${SETUP_RATE:-10}
warmup=${WARMUP:-5}
export TANDEM_RTP_PORTS=${TANDEM_RTP_PORTS:-20000-27999}
export MEDIA_TIMEOUT=${MEDIA_TIMEOUT:-900}   # calls wait for the RTP until every call is up
work="$(mktemp -d)"
source "$here/b2bua/lib.sh"
tandem_pid=""; kam_pid=""; uas_pid=""; uac_pid=""; sampler_pid=""
cleanup() {
  stop_pid "$sampler_pid"; stop_pid "$uac_pid"; stop_pid "$uas_pid"; stop_pid "$tandem_pid"
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT

gcc -O2 -o "$work/loadgen" "$here/relay/loadgen.c" -lm
caller_pw="$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
callee_pw="$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '1000,%s\n2000,%s\n' "$caller_pw" "$callee_pw" > "$work/users"
# RTP ports the calls announce (below the ephemeral range, above Tandem's): caller side 28000+2i, callee 30000+2i.
{ echo "SEQUENTIAL"; for ((i = 0; i < calls; i++)); do echo "$((28000 + 2 * i))"; done; } > "$work/uac.inf"
{ echo "SEQUENTIAL"; for ((i = 0; i < calls; i++)); do echo "$((30000 + 2 * i))"; done; } > "$work/uas.inf"

machine_line
echo "Soak: $calls calls placed at $setup_rate/s, then RTP on all of them for $duration s (2 x 50 packets/s per call, PCMU 20 ms), tandem $("$TANDEM_BIN" --version 2>/dev/null) with 1 media worker, media_timeout $MEDIA_TIMEOUT s."
start_tandem "$work/users"

p=$(random_port)
taskset -c 0 sipp -sf "$here/b2bua/register-callee.xml" -s 2000 -au 2000 -ap "$callee_pw" -m 1 \
  -i 127.0.0.1 -p "$p" -t u1 -nostdin -timeout 10 127.0.0.1:"$tandem_sip" > "$work/register" 2>&1 || true
[ "$(sipp_counts "$work/register")" = "1 0" ] || { echo "callee registration failed" >&2; exit 1; }
taskset -c 0 sipp -sf "$here/soak/uas.xml" -inf "$work/uas.inf" -s 2000 -i 127.0.0.1 -p "$p" -mp $((p + 2)) -t u1 \
  -buff_size 4194304 -nostdin -trace_logs -log_file "$work/uas.log" 127.0.0.1:"$tandem_sip" > "$work/uas.out" 2>&1 &
uas_pid=$!

# Every call holds for the rest of the setup, the warm-up and the window, plus a margin, then hangs up.
hold_ms=$(( (calls / setup_rate + warmup + duration + 20) * 1000 ))
p2=$(random_port)
# Tandem refreshes the session every 60 s (Session-Expires 120, it is the refresher): the caller answers
# the re-INVITEs and hangs up after the refresh that follows the hold time, or after hold_ms without one.
sed -e "s/@HOLD@/$hold_ms/g" -e "s/@REFRESHES@/$(( hold_ms / 60000 + 1 ))/g" "$here/soak/uac.xml" > "$work/uac.xml"
rss0=$(rss_kib "$tandem_pid")
taskset -c 0 sipp -sf "$work/uac.xml" -inf "$work/uac.inf" -set caller 1000 -au 1000 -ap "$caller_pw" -s 2000 \
  -r "$setup_rate" -m "$calls" -l "$calls" -i 127.0.0.1 -p "$p2" -mp $((p2 + 2)) -t u1 \
  -buff_size 4194304 -nostdin -recv_timeout 35000 -trace_logs -log_file "$work/uac.log" -trace_err \
  -error_file "$work/uac.errors" 127.0.0.1:"$tandem_sip" > "$work/uac.out" 2>&1 &
uac_pid=$!

( while kill -0 "$tandem_pid" 2>/dev/null; do echo "$(date +%s) $(rss_kib "$tandem_pid")"; sleep 10; done ) > "$work/rss" &
sampler_pid=$!

# Wait until every call is answered (both legs logged) or the setup time has clearly passed.
deadline=$(( $(date +%s) + calls / setup_rate + 60 ))
while [ "$(date +%s)" -lt "$deadline" ]; do
  a=$(grep -c '^A ' "$work/uac.log" 2>/dev/null || true)
  [ "${a:-0}" -ge "$calls" ] && break
  kill -0 "$uac_pid" 2>/dev/null || break
  sleep 2
done
answered=$(grep -c '^A ' "$work/uac.log" 2>/dev/null || true)
rss_up=$(rss_kib "$tandem_pid")
# Layout: "LOCAL_A LOCAL_B 127.0.0.1 RELAY_A RELAY_B" per call, joined on the caller's port.
python3 - "$work/uac.log" "$work/uas.log" > "$work/layout" <<'PY'
import sys
a = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 3 and f[0] == "A": a[f[1]] = f[2]
for line in open(sys.argv[2]):
    f = line.split()
    if len(f) >= 4 and f[0] == "B" and f[1] in a:
        print(f[1], f[2], "127.0.0.1", a[f[1]], f[3])
PY
paired=$(wc -l < "$work/layout")
echo "Calls answered: $answered of $calls; legs paired for RTP: $paired; tandem RSS before calls $rss0 KiB, with all calls up $rss_up KiB."
lg=$(timeout $((warmup + duration + 60)) taskset -c 0 "$work/loadgen" "$work/layout" "$warmup" "$duration" "$tandem_pid" || true)
echo "$lg"
metrics=$(curl -s "http://127.0.0.1:$tandem_http/metrics" || true)
engine_in=$(echo "$metrics" | awk '/^tandem_media_worker_packets_received/ {s += $NF} END {printf "%d", s}')
engine_out=$(echo "$metrics" | awk '/^tandem_media_worker_packets_sent/ {s += $NF} END {printf "%d", s}')
wait "$uac_pid" || true; uac_pid=""
read -r ok failed < <(sipp_counts "$work/uac.out")
failed=$((calls - ok))
sleep 2
legs=$(curl -s "http://127.0.0.1:$tandem_http/metrics" | awk '/^tandem_media_worker_legs/ {s += $NF} END {printf "%d", s}')
stop_pid "$sampler_pid"; sampler_pid=""
kv() { echo "$lg" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k {print $2}'; }
sent=$(kv sent); lost=$(kv lost)
read -r rss_first rss_last rss_max < <(awk -v up="$(date +%s)" 'NR == 1 {t0 = $1} {v[NR] = $2; if ($2 > m) m = $2} END {print v[1], v[NR], m}' "$work/rss")
# Flatness after warm-up: resident memory in the RTP window (samples after every call was up).
echo ""
echo "| metric | value |"
echo "| --- | ---: |"
echo "| calls placed / completed / failed | $calls / $ok / $failed |"
echo "| calls answered and paired for RTP | $answered / $paired |"
echo "| RTP window | $duration s, $sent packets sent, $lost lost |"
echo "| engine packets received / sent (whole run) | $engine_in / $engine_out |"
echo "| media legs open after the calls ended | $legs |"
echo "| tandem RSS: before calls / all calls up / first / last / max sample | $rss0 / $rss_up / $rss_first / $rss_last / $rss_max KiB |"
echo ""
echo "RSS samples (unix time, KiB): $(tr '\n' ';' < "$work/rss")"
echo ""
echo "RESULT soak.calls $calls"
echo "RESULT soak.failed_calls $failed"
echo "RESULT soak.rtp_sent ${sent:-0} packets"
echo "RESULT soak.rtp_lost ${lost:-0} packets"
python3 -c "print(f'RESULT soak.rtp_loss {100.0 * ${lost:-0} / max(1, ${sent:-0}):.4f} %')"
echo "RESULT soak.legs_left $legs"
echo "RESULT soak.rss_first $rss_first KiB"
echo "RESULT soak.rss_last $rss_last KiB"
echo "RESULT soak.rss_max $rss_max KiB"
