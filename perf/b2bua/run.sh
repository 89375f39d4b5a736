#!/usr/bin/env bash
# perf/run b2bua — calls through Tandem's B2BUA (auth, routing to a registered extension, an RTP session
# allocated per call, CDR) vs Kamailio as a plain stateful proxy with the same digest auth and an
# in-memory registrar, between the same SIPp UAC and UAS. SIPp on CPU 0, the server on CPU 1.
# Calls: INVITE -> 407 -> INVITE with credentials -> 180 -> 200 -> ACK, held HOLD_MS with no RTP, BYE.
# 1) CPU per call at fixed rates (CPU_RATES, CPU_SECONDS of calls, RUNS runs, median).
# 2) Highest sustained rate with < 0.1 % failed calls: RAMP_RATES in order, RAMP_SECONDS each, stopping at
#    the first rate that fails (or that SIPp cannot drive to 90 % of its target).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(dirname "$here")"
runs=${RUNS:-3}
cpu_rates=${CPU_RATES:-"200 500"}
cpu_seconds=${CPU_SECONDS:-10}
ramp_rates=${RAMP_RATES:-"500 1000 1500 2000 2500 3000 4000 5000"}
ramp_seconds=${RAMP_SECONDS:-10}
hold_ms=${HOLD_MS:-2000}
export TANDEM_RTP_PORTS=${TANDEM_RTP_PORTS:-20000-59999}
work="$(mktemp -d)"
source "$here/b2bua/lib.sh"
tandem_pid=""; kam_pid=""; uas_pids=""
cleanup() {
  for p in $uas_pids; do stop_pid "$p"; done
  stop_pid "$tandem_pid"; stop_pid "$kam_pid"
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT

caller_pw="$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
callee_pw="$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '1000,%s\n2000,%s\n' "$caller_pw" "$callee_pw" > "$work/users"

machine_line
echo "Tandem: $TANDEM_BIN ($("$TANDEM_BIN" --version 2>/dev/null)), 1 media worker, RTP ports $TANDEM_RTP_PORTS, sip_rate_limit off; Kamailio $(kamailio -v | head -1 | awk '{print $3}'), 1 worker, TLSF, 1 GiB shm."
echo "Calls: digest-authenticated INVITE (407 round), 180, 200, ACK, ${hold_ms} ms hold without RTP, BYE; SIPp UAC+UAS on CPU 0, server on CPU 1."

start_tandem "$work/users"
start_kamailio "$work/users"

# prepare NAME PORT: registers extension 2000 from a fresh port and starts the SIPp UAS there.
declare -A uas_port
prepare() {
  local name=$1 port=$2 p; p=$(random_port)
  taskset -c 0 sipp -sf "$here/b2bua/register-callee.xml" -s 2000 -au 2000 -ap "$callee_pw" -m 1 \
    -i 127.0.0.1 -p "$p" -t u1 -nostdin -timeout 10 127.0.0.1:"$port" > "$work/register.$name" 2>&1 || true
  [ "$(sipp_counts "$work/register.$name")" = "1 0" ] || { echo "$name: callee registration failed" >&2; tail -20 "$work/register.$name" >&2; exit 1; }
  taskset -c 0 sipp -sf "$here/b2bua/uas.xml" -s 2000 -i 127.0.0.1 -p "$p" -mp $((p + 2)) -t u1 \
    -buff_size 4194304 -nostdin 127.0.0.1:"$port" > "$work/uas.$name" 2>&1 &
  uas_pids="$uas_pids $!"
  uas_port[$name]=$p
}
prepare tandem "$tandem_sip"
prepare kamailio "$kam_sip"
sleep 0.5

# calls NAME PORT PID RATE COUNT: prints "cpu_us_per_call successful failed achieved_rate".
calls() {
  local name=$1 port=$2 pid=$3 rate=$4 count=$5 p before after t0 t1 ok failed
  p=$(random_port)
  before=$(cpu_of "$pid"); t0=$(date +%s.%N)
  timeout $((count / rate + hold_ms / 1000 + 60)) taskset -c 0 sipp -sf "$here/b2bua/uac.xml" -set caller 1000 -au 1000 -ap "$caller_pw" -s 2000 \
    -r "$rate" -m "$count" -d "$hold_ms" -i 127.0.0.1 -p "$p" -mp $((p + 2)) -t u1 -buff_size 4194304 -nostdin \
    -recv_timeout 35000 -timeout_error -timeout $((count / rate + hold_ms / 1000 + 40)) -trace_err -error_file "$work/errors.$name.$rate" \
    127.0.0.1:"$port" > "$work/uac.$name.$rate" 2>&1 || true
  t1=$(date +%s.%N); after=$(cpu_of "$pid")
  read -r ok failed < <(sipp_counts "$work/uac.$name.$rate")
  failed=$((count - ok))   # anything not completed counts as failed
  python3 -c "print(f'{($after - $before) * 1e6 / max(1, $ok):.1f} $ok $failed {$ok / max(0.001, $t1 - $t0 - $hold_ms / 1000):.0f}')"
  sleep 2
}

echo ""
echo "| server | rate (calls/s) | CPU µs per call (median of $runs) | runs: µs, completed, failed, achieved calls/s |"
echo "| --- | ---: | ---: | --- |"
declare -A med
for rate in $cpu_rates; do
  count=$((rate * cpu_seconds))
  : > "$work/cpu.tandem.$rate"; : > "$work/cpu.kamailio.$rate"
  for i in $(seq "$runs"); do
    calls tandem "$tandem_sip" "$tandem_pid" "$rate" "$count" >> "$work/cpu.tandem.$rate"
    calls kamailio "$kam_sip" "$kam_pid" "$rate" "$count" >> "$work/cpu.kamailio.$rate"
  done
  for name in tandem kamailio; do
    med[$name.$rate]=$(cut -d' ' -f1 "$work/cpu.$name.$rate" | median)
    echo "| $name | $rate | ${med[$name.$rate]} | $(tr '\n' ';' < "$work/cpu.$name.$rate") |"
  done
done

# ramp NAME PORT PID: the highest achieved rate of a passing step.
ramp() {
  local name=$1 port=$2 pid=$3 best=0 rate line cpu ok failed achieved
  for rate in $ramp_rates; do
    line=$(calls "$name" "$port" "$pid" "$rate" $((rate * ramp_seconds)))
    read -r cpu ok failed achieved <<< "$line"
    echo "| $name | $rate | $achieved | $ok | $failed | $cpu |" >> "$work/ramp.table"
    if [ $((failed * 1000)) -ge $((ok + failed)) ] || [ "$achieved" -lt $((rate * 9 / 10)) ]; then break; fi
    best=$achieved
  done
  echo "$best"
}
: > "$work/ramp.table"
max_t=$(ramp tandem "$tandem_sip" "$tandem_pid")
max_k=$(ramp kamailio "$kam_sip" "$kam_pid")
echo ""
echo "Ramp ($ramp_seconds s per step, stop at the first step with >= 0.1 % failed calls or under 90 % of the target rate):"
echo ""
echo "| server | target calls/s | achieved calls/s | completed | failed | CPU µs per call |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
cat "$work/ramp.table"
echo ""
echo "Tandem stderr (last lines): $(tail -n 3 "$work/tandem.err" | tr '\n' ' ' | cut -c1-400)"
echo ""
first=${cpu_rates%% *}; last=${cpu_rates##* }
for rate in $cpu_rates; do
  t=${med[tandem.$rate]}; k=${med[kamailio.$rate]}
  echo "RESULT b2bua.cpu_per_call.tandem.r$rate $t us"
  echo "RESULT b2bua.cpu_per_call.kamailio.r$rate $k us"
  python3 -c "print(f'RESULT b2bua.cpu_per_call.tandem/kamailio.r$rate {$t / max(0.001, $k):.3f}')"
done
echo "RESULT b2bua.cpu_per_call.tandem ${med[tandem.$last]} us"
echo "RESULT b2bua.cpu_per_call.kamailio ${med[kamailio.$last]} us"
python3 -c "print(f'RESULT b2bua.cpu_per_call.tandem/kamailio {${med[tandem.$last]} / max(0.001, ${med[kamailio.$last]}):.3f}')"
echo "RESULT b2bua.max_rate.tandem $max_t calls/s"
echo "RESULT b2bua.max_rate.kamailio $max_k calls/s"
python3 -c "print(f'RESULT b2bua.max_rate.kamailio/tandem {$max_k / max(1, $max_t):.3f}')"
