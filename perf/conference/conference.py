#!/usr/bin/env python3
"""One conference measurement: sets up R rooms of S participants (T talkers each) on a running
server, drives them with confgen and prints confgen's result line, prefixed with the case.

Steps: start confgen (pinned, it binds one socket per participant and prints their ports); create
the rooms and join every participant through the server's driver (Janus HTTP API or Tandem's ng
conference commands), each with its generator port as its RTP address; hand confgen the server's
port for each participant and "GO"; wait for its result; destroy the rooms.

Usage: conference.py --server janus|tandem --control HOST:PORT --server-pid PID --confgen BIN
       --codec pcmu|opus --rooms R --size S --talkers T [--warmup S] [--window S] [--probes K]
       [--label NAME] [--cpu-prefix "chrt -f 10 taskset -c 0"]
Exit status 3: the server does not have the conference commands (Tandem before they land).
"""
import argparse
import shlex
import subprocess
import sys

from janus_driver import JanusDriver
from tandem_driver import TandemDriver


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", choices=["janus", "tandem"], required=True)
    parser.add_argument("--control", required=True)
    parser.add_argument("--server-pid", type=int, required=True)
    parser.add_argument("--confgen", required=True)
    parser.add_argument("--codec", choices=["pcmu", "opus"], required=True)
    parser.add_argument("--rooms", type=int, required=True)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--talkers", type=int, required=True)
    parser.add_argument("--warmup", type=float, default=4)
    parser.add_argument("--window", type=float, default=10)
    parser.add_argument("--probes", type=int, default=100)
    parser.add_argument("--label", default="case")
    parser.add_argument("--cpu-prefix", default="taskset -c 0")
    args = parser.parse_args()

    driver = JanusDriver(args.control) if args.server == "janus" else TandemDriver(args.control)
    if args.server == "tandem":
        ok, reason = driver.supported()
        if not ok:
            print(f"conference: tandem media has no conference commands yet ({reason})", file=sys.stderr)
            return 3

    n = args.rooms * args.size
    pt = 111 if args.codec == "opus" else 0
    generator = subprocess.Popen(
        shlex.split(args.cpu_prefix) + [args.confgen, str(n), args.codec, str(pt), str(args.warmup),
                                        str(args.window), str(args.server_pid), str(args.probes)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        ports_line = generator.stdout.readline().split()
        if not ports_line or ports_line[0] != "PORTS" or len(ports_line) != n + 1:
            raise RuntimeError(f"confgen did not report {n} ports")
        ports = [int(p) for p in ports_line[1:]]
        joins = []
        talker_flags = []
        for r in range(args.rooms):
            driver.create_room(r, args.size, args.talkers)
            for k in range(args.size):
                index = r * args.size + k
                joins.append((index, r, ports[index]))
                talker_flags.append(1 if k < args.talkers else 0)
        endpoints = driver.join_all(joins, args.codec)
        layout = []
        for index, room_index, _ in joins:
            ip, port, _pt = endpoints[index]
            layout.append(f"{room_index} {talker_flags[index]} {ip} {port}\n")
        generator.stdin.write("".join(layout) + "GO\n")
        generator.stdin.flush()
        result = generator.stdout.readline().strip()
        generator.wait(timeout=60)
        if not result.startswith("confgen "):
            raise RuntimeError("confgen gave no result")
        stats = driver.room_stats()
        if stats:
            print(f"conference: {args.server} room statistics: {stats}", file=sys.stderr)
        print(f"{args.server} {args.label} {result}")
    finally:
        if generator.poll() is None:
            generator.kill()
            generator.wait()
        driver.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError, ValueError, KeyError) as error:
        print(f"conference: {error}", file=sys.stderr)
        sys.exit(1)
