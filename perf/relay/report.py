#!/usr/bin/env python3
"""Prints the relay comparison's Markdown table and RESULT lines from perf/relay/run.sh's results.

Input lines: "KIND CALLS RUN loadgen key=value ...". With several runs, the run with the median CPU
per packet stands for its relay and load. Ratios are costs, Tandem (or rtpengine) over the other,
so below 1 means the numerator did better; the unsuffixed ratio is the geometric mean over loads.
Usage: report.py RESULTS_FILE"""
import math
import sys

NAMES = {
    "cforwarder": "C epoll+recvmmsg/sendmmsg forwarder (floor)",
    "rtpengine": "rtpengine userspace, 1 worker",
    "tandem": "tandem media, 1 worker",
}

runs = {}
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) < 4:
        continue
    kind, calls = parts[0], int(parts[1])
    values = dict(p.split("=", 1) for p in parts[4:] if "=" in p)
    runs.setdefault((kind, calls), []).append({k: float(v) for k, v in values.items()})

chosen = {}
for key, rows in runs.items():
    rows.sort(key=lambda r: r["relay_cpu_ns_per_packet"])
    chosen[key] = rows[(len(rows) - 1) // 2]

kinds = [k for k in NAMES if any(key[0] == k for key in chosen)]
loads = sorted({key[1] for key in chosen})

print("| relay | calls | CPU ns per forwarded packet | (of it in user space) | (threads' run time) | relay CPU | forwarded/s "
      "| loss | added jitter p50 / p99 / max | load generator CPU, late ticks |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for n in loads:
    for kind in kinds:
        r = chosen.get((kind, n))
        if r is None:
            continue
        w = r["window_s"]
        print(f"| {NAMES[kind]} | {n} | {r['relay_cpu_ns_per_packet']:.0f} | {r.get('relay_user_ns_per_packet', 0):.0f} "
              f"| {r['relay_sched_ns_per_packet']:.0f} "
              f"| {100 * r['relay_cpu_s'] / w:.1f} % | {r['forwarded'] / w:.0f} "
              f"| {r['loss_pct']:.3f} % ({r['lost']:.0f} of {r['sent']:.0f}) "
              f"| {r['jitter_p50_us']:.0f} / {r['jitter_p99_us']:.0f} / {r['jitter_max_us']:.0f} µs "
              f"| {100 * r['loadgen_cpu_share']:.0f} %, {r['late_ticks']:.0f} |")
print("")
print("CPU: utime+stime of the whole relay process (all threads, /proc/PID/stat) over the window, divided by")
print("the datagrams the load generator received from it in the window; the run-time column is the sum of")
print("the threads' /proc/PID/task/T/schedstat as a cross-check. On loopback the kernel delivers each datagram")
print("into the receiving socket in the sender's context, so the relay's system time includes the delivery to the")
print("load generator (the same for every relay; it is most of the floor). Added jitter: one-way delay minus that")
print("stream's minimum, over every packet sent in the window.")
print("")


def cost(kind, n):
    r = chosen.get((kind, n))
    return r["relay_cpu_ns_per_packet"] if r and r["relay_cpu_ns_per_packet"] > 0 else None


for num, den in (("tandem", "cforwarder"), ("tandem", "rtpengine"), ("rtpengine", "cforwarder")):
    ratios = {n: cost(num, n) / cost(den, n) for n in loads if cost(num, n) and cost(den, n)}
    if not ratios:
        continue
    mean = math.exp(sum(math.log(v) for v in ratios.values()) / len(ratios))
    print(f"RESULT relay.cpu_per_packet.{num}/{den} {mean:.3f}")
    for n, v in ratios.items():
        print(f"RESULT relay.cpu_per_packet.{num}/{den}.{n} {v:.3f}")
for kind in kinds:
    for n in loads:
        r = chosen.get((kind, n))
        if r is None:
            continue
        print(f"RESULT relay.{kind}.cpu_ns_per_packet.{n} {r['relay_cpu_ns_per_packet']:.0f} ns")
        print(f"RESULT relay.{kind}.loss_pct.{n} {r['loss_pct']:.4f} %")
        print(f"RESULT relay.{kind}.jitter_p99_us.{n} {r['jitter_p99_us']:.0f} us")
