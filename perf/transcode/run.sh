#!/usr/bin/env bash
# perf/transcode/run.sh BIN — the body of `perf/run transcode` (BIN = release tandem-transcode-perf).
# Tandem: two AudioPipelines per call (PCMU→Opus, Opus→PCMU) driven in simulated time on one pinned CPU, CPU time per
# call-second; the bare codecs at the same settings in the same process. rtpengine: the Debian daemon in userspace
# (--table=-1), one media thread pinned to the same CPU, CALLS transcoded calls driven by a Python load generator on
# the other CPU with the same PCMU and Opus payloads; its CPU time (utime+stime) per call-second.
# calls per core = 1 s / (CPU seconds per call-second).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin=$1
calls=${CALLS:-20}
seconds=${SECONDS_PER_RUN:-10}
cpu=$(( $(nproc) - 1 ))
gen_cpu=0
work="$(mktemp -d)"
rtp_pid=""
cleanup() {
  if [ -n "$rtp_pid" ]; then kill "$rtp_pid" 2>/dev/null || true; wait "$rtp_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs; $(date -u +%Y-%m-%d); rtpengine $(dpkg-query -W -f='${Version}' rtpengine-daemon 2>/dev/null || echo '?'); libopus $(dpkg-query -W -f='${Version}' libopus0 2>/dev/null || echo '?')"
timeout 600 taskset -c "$cpu" "$bin" --write "$work" ${SWEEP:+--sweep} > "$work/tandem.txt"
grep '^SETTINGS' "$work/tandem.txt" | sed 's/^SETTINGS /Settings: /'
grep '^SWEEP' "$work/tandem.txt" | sed 's/^SWEEP /Opus complexity sweep (Tandem, µs CPU per call-second): /' || true
tandem=$(awk '/^TANDEM/ {print $2}' "$work/tandem.txt")
bare=$(awk '/^BARE/ {print $2}' "$work/tandem.txt")

rtpengine_result=""
if [ -x /usr/bin/rtpengine ]; then
  ng_port=$((40000 + RANDOM % 20000))  # other runs on this machine may hold fixed ports
  taskset -c "$cpu" /usr/bin/rtpengine --config-file=none --table=-1 --foreground --log-stderr --log-level=4 \
    --interface=127.0.0.1 --listen-ng=127.0.0.1:$ng_port --port-min=31000 --port-max=39999 --num-threads=1 \
    > "$work/rtpengine.log" 2>&1 &
  rtp_pid=$!
  for _ in $(seq 50); do
    if ss -uln 2>/dev/null | grep -q "127.0.0.1:$ng_port "; then break; fi
    sleep 0.1
  done
  echo "Settings: rtpengine defaults for this call (codeclib): Opus through ffmpeg's libopus at 48 kHz, opus/48000/2 → 32 kbit/s, libopus default complexity 10, PCMU resampled 8 → 48 kHz; no codec options given; one media thread (--num-threads=1)."
  if out=$(timeout 120 taskset -c "$gen_cpu" python3 "$here/rtpengine_load.py" "$ng_port" "$rtp_pid" "$work" "$calls" "$seconds" 2> "$work/load.err"); then
    rtpengine_result=$(echo "$out" | awk '/^RTPENGINE/ {print $2, $3, $4, $5, $6, $7}')
  else
    echo "rtpengine load run failed:"; tail -5 "$work/load.err"; tail -5 "$work/rtpengine.log"
  fi
fi

python3 - "$tandem" "$bare" "$calls" "$seconds" $rtpengine_result <<'PY'
import sys
tandem, bare = float(sys.argv[1]), float(sys.argv[2])
calls, seconds = int(sys.argv[3]), float(sys.argv[4])
rest = sys.argv[5:]
t_calls, b_calls = 1e6 / tandem, 1e6 / bare
print()
print("| PCMU↔Opus 20 ms call | µs CPU per call-second | calls per core |")
print("|---|---:|---:|")
print(f"| Tandem AudioPipeline ×2 (jitter buffer, DSP, codecs) | {tandem:.1f} | {t_calls:.0f} |")
print(f"| Bare codecs at Tandem's settings (G.711 dec + Opus enc + Opus dec + G.711 enc) | {bare:.1f} | {b_calls:.0f} |")
if rest:
    r = float(rest[0]); r_calls = 1e6 / r
    to_b, to_a, opus_ok, pcmu_ok = int(rest[1]), int(rest[2]), rest[3], rest[4]
    expected = calls * seconds * 50
    print(f"| rtpengine userspace, {calls} calls for {seconds:.0f} s | {r:.1f} | {r_calls:.0f} |")
    print()
    print(f"rtpengine check: {to_b}/{expected:.0f} Opus packets reached the Opus legs (PT ok: {opus_ok}), "
          f"{to_a}/{expected:.0f} PCMU packets reached the PCMU legs (PT ok: {pcmu_ok}).")
    print(f"RESULT transcode.calls_per_core.rtpengine/tandem {r_calls / t_calls:.3f}")
    print(f"RESULT transcode.calls_per_core.rtpengine {r_calls:.1f} calls")
else:
    print()
    print("rtpengine: no figure (see the failure above)")
print(f"RESULT transcode.cost.tandem/bare_codecs {tandem / bare:.3f}")
print(f"RESULT transcode.calls_per_core.tandem {t_calls:.1f} calls")
print(f"RESULT transcode.cpu_per_call_second.tandem {tandem:.1f} us")
print(f"RESULT transcode.cpu_per_call_second.bare_codecs {bare:.1f} us")
PY
