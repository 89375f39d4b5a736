#!/usr/bin/env bash
# perf/run register — REGISTER with digest auth (401 round, then credentials) for USERS extensions, the
# same users in Tandem (created through `tandem admin extensions import`) and in Kamailio (auth_db on a
# db_text subscriber table, usrloc in memory). SIPp on CPU 0, the server on CPU 1.
# 1) CPU per registration at CPU_RATE (CPU_SECONDS of registrations, RUNS runs, median).
# 2) Highest sustained registrations/s with < 0.1 % failures: RAMP_RATES in order, RAMP_SECONDS each, stop
#    at the first failing step (or one SIPp cannot drive to 90 % of its target).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$(dirname "$here")"
runs=${RUNS:-3}
users=${USERS:-1000}
cpu_rate=${CPU_RATE:-200}
cpu_seconds=${CPU_SECONDS:-10}
ramp_rates=${RAMP_RATES:-"250 500 1000 2000 3000 4000 5000"}
ramp_seconds=${RAMP_SECONDS:-10}
work="$(mktemp -d)"
source "$here/b2bua/lib.sh"
tandem_pid=""; kam_pid=""
cleanup() {
  stop_pid "$tandem_pid"; stop_pid "$kam_pid"
  [ -n "${KEEP:-}" ] && echo "kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT

make_users "$users" 10000 > "$work/users"
# SIPp 3.6 cannot take digest credentials per call from an injection file, so every registration is the
# same user (the middle row of the table) refreshing its binding: full digest check and usrloc update each time.
reg_user=$(sed -n "$(( (users + 1) / 2 ))p" "$work/users")
{ echo "SEQUENTIAL"; echo "${reg_user%%,*};x"; } > "$work/users.inf"

machine_line
echo "Tandem: $TANDEM_BIN ($("$TANDEM_BIN" --version 2>/dev/null)), sip_rate_limit off; Kamailio $(kamailio -v | head -1 | awk '{print $3}'), 1 worker, TLSF, 1 GiB shm, auth_db (db_text, $users rows), usrloc db_mode 0."
echo "Load: one of the $users users (SIPp 3.6 takes one digest credential per run) re-registering (REGISTER, 401, REGISTER with Authorization, 200; Expires 3600); SIPp on CPU 0, server on CPU 1."
start_tandem "$work/users"
start_kamailio "$work/users"

# regs NAME PORT PID RATE COUNT: prints "cpu_us_per_registration successful failed achieved_rate".
regs() {
  local name=$1 port=$2 pid=$3 rate=$4 count=$5 p before after t0 t1 ok failed
  p=$(random_port)
  before=$(cpu_of "$pid"); t0=$(date +%s.%N)
  timeout $((count / rate + 60)) taskset -c 0 sipp -sf "$here/register/register.xml" -inf "$work/users.inf" \
    -au "${reg_user%%,*}" -ap "${reg_user#*,}" \
    -r "$rate" -m "$count" -i 127.0.0.1 -p "$p" -t u1 -buff_size 4194304 -nostdin -recv_timeout 10000 \
    -timeout $((count / rate + 40)) -timeout_error -trace_err -error_file "$work/errors.$name.$rate" \
    127.0.0.1:"$port" > "$work/sipp.$name.$rate" 2>&1 || true
  t1=$(date +%s.%N); after=$(cpu_of "$pid")
  read -r ok failed < <(sipp_counts "$work/sipp.$name.$rate")
  failed=$((count - ok))
  python3 -c "print(f'{($after - $before) * 1e6 / max(1, $ok):.1f} $ok $failed {$ok / max(0.001, $t1 - $t0):.0f}')"
  sleep 2
}

echo ""
echo "| server | rate (registrations/s) | CPU µs per registration (median of $runs) | runs: µs, completed, failed, achieved/s |"
echo "| --- | ---: | ---: | --- |"
: > "$work/cpu.tandem"; : > "$work/cpu.kamailio"
for i in $(seq "$runs"); do
  regs tandem "$tandem_sip" "$tandem_pid" "$cpu_rate" $((cpu_rate * cpu_seconds)) >> "$work/cpu.tandem"
  regs kamailio "$kam_sip" "$kam_pid" "$cpu_rate" $((cpu_rate * cpu_seconds)) >> "$work/cpu.kamailio"
done
t=$(cut -d' ' -f1 "$work/cpu.tandem" | median); k=$(cut -d' ' -f1 "$work/cpu.kamailio" | median)
echo "| tandem | $cpu_rate | $t | $(tr '\n' ';' < "$work/cpu.tandem") |"
echo "| kamailio | $cpu_rate | $k | $(tr '\n' ';' < "$work/cpu.kamailio") |"

ramp() {
  local name=$1 port=$2 pid=$3 best=0 rate line cpu ok failed achieved
  for rate in $ramp_rates; do
    line=$(regs "$name" "$port" "$pid" "$rate" $((rate * ramp_seconds)))
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
echo "Ramp ($ramp_seconds s per step, stop at the first step with >= 0.1 % failures or under 90 % of the target rate):"
echo ""
echo "| server | target/s | achieved/s | completed | failed | CPU µs per registration |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
cat "$work/ramp.table"
echo ""
echo "RESULT register.cpu_per_registration.tandem $t us"
echo "RESULT register.cpu_per_registration.kamailio $k us"
python3 -c "print(f'RESULT register.cpu_per_registration.tandem/kamailio {$t / max(0.001, $k):.3f}')"
echo "RESULT register.max_rate.tandem $max_t registrations/s"
echo "RESULT register.max_rate.kamailio $max_k registrations/s"
python3 -c "print(f'RESULT register.max_rate.kamailio/tandem {$max_k / max(1, $max_t):.3f}')"
