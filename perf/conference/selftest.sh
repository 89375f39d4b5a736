#!/usr/bin/env bash
# perf/conference/selftest.sh: checks the harness without a mixer. echo_ng.py stands in for
# `tandem media` (its "rooms" echo each participant's RTP back), and the Tandem driver, confgen and
# conference.py run against it. Asserts: no loss, every probe sees the bursts (2-3 in a 3 s
# window), and the delay measured through an echo is the method's zero point (G.711 under 2 ms;
# Opus 4-10 ms, the generator's own encoder delay). Bounded; stops what it started by PID.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
gcc -O2 -Wall -o "$work/confgen" "$here/confgen.c" -lopus -lm
port=$((52000 + RANDOM % 8000))
python3 "$here/echo_ng.py" "$port" & pid=$!
timeout 20 python3 "$here/../relay/ng_setup.py" --ng 127.0.0.1:$port --wait 10
fail=0
for codec in pcmu opus; do
  line=$(timeout 60 python3 "$here/conference.py" --server tandem --control 127.0.0.1:$port --server-pid "$pid" \
    --confgen "$work/confgen" --codec "$codec" --rooms 2 --size 5 --talkers 5 --warmup 1 --window 3 2>/dev/null)
  echo "$codec: ${line#* * confgen }"
  python3 - "$codec" "$line" <<'PY' || fail=1
import sys
codec, line = sys.argv[1], sys.argv[2]
v = dict(p.split("=", 1) for p in line.split() if "=" in p)
low, high = (0.0, 2.0) if codec == "pcmu" else (4.0, 10.0)
checks = {
    "no loss": float(v["loss_pct"]) == 0 and float(v["seq_loss_pct"]) == 0 and int(v["silent"]) == 0,
    "the bursts in the window seen by all 10 probes": 20 <= int(v["delays"]) <= 30 and int(v["unmatched"]) == 0,
    f"delay p50 in [{low}, {high}] ms": low <= float(v["delay_p50_ms"]) <= high,
}
for name, ok in checks.items():
    print(f"  {'ok  ' if ok else 'FAIL'} {name}")
sys.exit(0 if all(checks.values()) else 1)
PY
done
exit $fail
