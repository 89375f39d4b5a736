# Shared by perf/b2bua, perf/register and perf/soak (sourced). Needs $work (a scratch directory) and $here
# (perf/). Starts Tandem (`tandem serve`, release binary) and Kamailio pinned to CPU 1, provisions the same
# users in both, runs SIPp pinned to CPU 0 and reads its counts.

TANDEM_BIN=${TANDEM_BIN:-}
if [ -z "$TANDEM_BIN" ]; then
  for candidate in "$here/../.build/release/tandem" /work/main/.build/release/tandem; do
    if [ -x "$candidate" ]; then TANDEM_BIN="$candidate"; break; fi
  done
fi
KAM_MODULES=${KAM_MODULES:-/usr/lib/x86_64-linux-gnu/kamailio/modules}

machine_line() {
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs; $(date -u +%Y-%m-%d); load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

# A free-looking UDP port pair base in 15000-19899 (other sessions run tests at the same time).
random_port() { echo $((15000 + (RANDOM % 2450) * 2)); }

cpu_of() { python3 "$here/lib/cpu_seconds.py" "$1"; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print 0}'; }

# users_csv N FIRST: "number,password" lines for extensions FIRST..FIRST+N-1 with random passwords.
make_users() {
  local n=$1 first=$2 i
  for ((i = first; i < first + n; i++)); do
    echo "$i,$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  done
}

# start_tandem USERS_CSV: starts `tandem serve` on ephemeral loopback ports pinned to CPU 1, creates tenant
# "perf" with domain 127.0.0.1 and the extensions of USERS_CSV (number,password) through `tandem admin`.
# Sets tandem_pid, tandem_sip, tandem_http. The administrator password is random per run (no default).
start_tandem() {
  local users=$1 i
  mkdir -p "$work/tandem-data" "$work/xdg"
  local admin_pw; admin_pw="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
  TANDEM_ADMIN_PASSWORD="$admin_pw" TANDEM_SIP_RATE_LIMIT=0 TANDEM_RING_TIMEOUT=${RING_TIMEOUT:-30} \
    TANDEM_MEDIA_TIMEOUT=${MEDIA_TIMEOUT:-120} TANDEM_LOG_LEVEL=${TANDEM_LOG_LEVEL:-warning} \
    taskset -c 1 "$TANDEM_BIN" serve --data "$work/tandem-data" --workers "${TANDEM_WORKERS:-1}" \
      --rtp-ports "${TANDEM_RTP_PORTS:-20000-39999}" \
      --http 127.0.0.1:0 --sip 127.0.0.1:0 --sip-tls 127.0.0.1:0 --sip-ws 127.0.0.1:0 --sip-wss 127.0.0.1:0 \
      > "$work/tandem.out" 2> "$work/tandem.err" &
  tandem_pid=$!
  for i in $(seq 200); do
    grep -q "HTTP listening on" "$work/tandem.out" 2>/dev/null && break
    kill -0 "$tandem_pid" 2>/dev/null || { echo "tandem exited: $(tail -5 "$work/tandem.err")" >&2; return 1; }
    sleep 0.1
  done
  tandem_http=$(grep -m1 "HTTP listening on" "$work/tandem.out" | sed 's/.*://')
  tandem_sip=$(grep -m1 "SIP listening on udp" "$work/tandem.out" | sed 's/.*://')
  [ -n "$tandem_http" ] && [ -n "$tandem_sip" ] || { echo "tandem did not start: $(cat "$work/tandem.out" "$work/tandem.err" | tail -5)" >&2; return 1; }
  local server="http://127.0.0.1:$tandem_http"
  export XDG_CONFIG_HOME="$work/xdg"
  echo "$admin_pw" | "$TANDEM_BIN" admin login --server "$server" --username admin --password-stdin > /dev/null
  local tenant_json; tenant_json=$("$TANDEM_BIN" admin tenants create --server "$server" --json --name perf --domain 127.0.0.1)
  local tenant_id; tenant_id=$(echo "$tenant_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  { echo "number,sip_password"; cat "$users"; } > "$work/import.csv"
  "$TANDEM_BIN" admin extensions import --server "$server" --tenant-id "$tenant_id" "$work/import.csv" > /dev/null
}

# start_kamailio USERS_CSV: Kamailio (perf/b2bua/kamailio.cfg) on a random UDP port, one worker, TLSF,
# 1 GiB shared memory, pinned to CPU 1; the users go into a db_text subscriber table. Sets kam_pid, kam_sip.
start_kamailio() {
  local users=$1
  mkdir -p "$work/kamdb"
  printf 'table_name(string) table_version(int)\nsubscriber:7\nversion:1\n' > "$work/kamdb/version"
  { echo "id(int,auto) username(string) domain(string) password(string)"
    awk -F, '{print NR ":" $1 ":127.0.0.1:" $2}' "$users"; } > "$work/kamdb/subscriber"
  kam_sip=$(random_port)
  kamailio -f "$here/b2bua/kamailio.cfg" -L "$KAM_MODULES" -A "DBURL=\"text://$work/kamdb\"" -DD -E -n "${KAM_CHILDREN:-1}" \
    -l udp:127.0.0.1:"$kam_sip" -m "${KAM_SHM:-1024}" -M 16 -x tlsf -X tlsf -Y "$work/kamailio-run" \
    > "$work/kamailio.log" 2>&1 &
  kam_pid=$!
  sleep 2
  kill -0 "$kam_pid" 2>/dev/null || { echo "kamailio exited: $(tail -20 "$work/kamailio.log")" >&2; return 1; }
  taskset -a -p -c 1 "$kam_pid" > /dev/null
  local child
  for child in $(pgrep -P "$kam_pid"); do taskset -a -p -c 1 "$child" > /dev/null; done
}

# sipp_counts FILE: "successful failed" from a SIPp final screen.
sipp_counts() {
  local ok failed
  ok=$(grep "Successful call" "$1" | tail -1 | awk -F'|' '{gsub(/ /,"",$3); print $3}')
  failed=$(grep "Failed call" "$1" | tail -1 | awk -F'|' '{gsub(/ /,"",$3); print $3}')
  echo "${ok:-0} ${failed:-0}"
}

stop_pid() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
