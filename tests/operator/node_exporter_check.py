#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""node_exporter, the Prometheus agent operators run, reads ikeguard's exposition through its
textfile collector and serves every metric with its value, type and help, without a scrape error.

Usage: node_exporter_check.py <node_exporter> <ikeguard_write_prometheus>
"""
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

# What write_prometheus.cpp's calls make: exact values.
EXPECTED = {
    "ikeguard_notices_sent_total": 1.0,
    "ikeguard_dropped_inbound_total": 2.0,
    "ikeguard_proceeded_outbound_total": 1.0,
    "ikeguard_proceeded_inbound_total": 0.0,
    "ikeguard_peers_tracked": 1.0,  # the proceeded proposal carried no fingerprint: not kept
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def samples(text):
    """{name: value} of the sample lines, {name: type} and {name: help} of the comments."""
    values, types, helps = {}, {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
        elif line.startswith("# HELP "):
            _, _, name, help_text = line.split(" ", 3)
            helps[name] = help_text
        elif line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values, types, helps


def scrape(port, deadline):
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as reply:
                return reply.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def main():
    exporter, writer = sys.argv[1], sys.argv[2]
    failures = []
    with tempfile.TemporaryDirectory() as directory:
        subprocess.run([writer, directory], check=True)
        with open(os.path.join(directory, "ikeguard.prom")) as f:
            written, written_types, written_helps = samples(f.read())
        port = free_port()
        process = subprocess.Popen(
            [exporter, "--collector.disable-defaults", "--collector.textfile",
             "--collector.textfile.directory", directory,
             "--web.listen-address", f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            served, served_types, served_helps = samples(scrape(port, time.monotonic() + 20))
        finally:
            process.terminate()
            try:
                _, log = process.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                _, log = process.communicate()

    ours = {name: value for name, value in written.items() if name.startswith("ikeguard_")}
    if len(ours) < 20:
        failures.append(f"the file holds {len(ours)} ikeguard metrics, expected every counter")
    for name, value in ours.items():
        if served.get(name) != value:
            failures.append(f"{name}: served {served.get(name)}, written {value}")
        if served_types.get(name) != written_types.get(name):
            failures.append(f"{name}: type {served_types.get(name)}, written {written_types.get(name)}")
        if served_helps.get(name) != written_helps.get(name):
            failures.append(f"{name}: help {served_helps.get(name)!r}, written {written_helps.get(name)!r}")
    for name, value in EXPECTED.items():
        if served.get(name) != value:
            failures.append(f"{name}: served {served.get(name)}, expected {value}")
    if served.get("node_textfile_scrape_error") != 0.0:
        failures.append(f"node_textfile_scrape_error is {served.get('node_textfile_scrape_error')}")

    if failures:
        sys.stderr.write(log.decode(errors="replace"))
        for failure in failures:
            print("FAILED:", failure)
        return 1
    print(f"node_exporter served all {len(ours)} ikeguard metrics exactly, no scrape error")
    return 0


if __name__ == "__main__":
    sys.exit(main())
