#!/usr/bin/env python3
"""Prints the markdown tables of BENCHMARKS.md from a run of the codec benchmarks.

Reads criterion's estimates (`<target>/criterion/**/new/{benchmark,estimates}.json`, written by
`cargo bench --bench codec`) and the allocation counts (`<target>/criterion/codec_allocs.json`,
written by `cargo bench --bench codec_allocs`). The target directory is `--target-dir`, else
$CARGO_TARGET_DIR, else `target` next to this script's parent.

    python3 benches/report.py [--target-dir DIR] > tables.md
"""

import argparse
import json
import os
import re
import sys
from pathlib import Path

ROWS = [
    "publish_qos0_16B",
    "publish_qos0_1KiB",
    "publish_qos0_64KiB",
    "publish_qos1_1KiB",
    "connect",
    "subscribe_10",
    "suback_10",
    "puback",
    "pingreq",
]
VERSIONS = ["v311", "v5"]
PEERS = ["rumqttc", "mqttrs", "mqtt-protocol-core", "mqtt-proto"]
COLUMNS = {
    "decode": ["ours_borrowed", "ours_owned", *PEERS, "header_scan", "header_utf8_scan"],
    "encode": ["ours", *PEERS, "memcpy"],
    "stream": [
        "ours_borrowed",
        "ours_owned",
        "ours_decoder",
        *PEERS,
        "header_scan",
        "header_utf8_scan",
    ],
}
ID = re.compile(r"^(decode|encode|stream)/(v311|v5)/([^/]+)$")


def target_dir(argument):
    if argument:
        return Path(argument)
    if os.environ.get("CARGO_TARGET_DIR"):
        return Path(os.environ["CARGO_TARGET_DIR"])
    return Path(__file__).resolve().parent.parent / "target"


def load_medians(criterion):
    """{(kind, version, row): {codec: median ns}} from criterion's `new` estimates."""
    medians = {}
    for benchmark in criterion.glob("**/new/benchmark.json"):
        meta = json.loads(benchmark.read_text())
        match = ID.match(meta.get("group_id", ""))
        if not match:
            continue
        estimates = json.loads((benchmark.parent / "estimates.json").read_text())
        key = match.groups()
        medians.setdefault(key, {})[meta["function_id"]] = estimates["median"]["point_estimate"]
    return medians


def load_allocs(criterion):
    path = criterion / "codec_allocs.json"
    if not path.exists():
        return {"operations": {}, "streams": {}}
    return json.loads(path.read_text())


def fmt_time(ns):
    if ns is None:
        return "—"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    if ns >= 10:
        return f"{ns:.1f} ns"
    return f"{ns:.2f} ns"


def fastest_peer(times):
    peers = [(times[p], p) for p in PEERS if p in times]
    return min(peers) if peers else (None, None)


def cell(times, codec, fastest):
    ns = times.get(codec)
    if ns is None:
        return "—"
    if fastest is None:
        return fmt_time(ns)
    return f"{fmt_time(ns)} ×{ns / fastest:.2f}"


def packet_table(kind, version, medians, allocs):
    columns = COLUMNS[kind]
    ours = "ours_borrowed" if kind == "decode" else "ours"
    lines = [
        f"| row | {' | '.join(columns)} | fastest peer | peer ÷ {ours} |",
        "|" + "---|" * (len(columns) + 3),
    ]
    for row in ROWS:
        times = medians.get((kind, version, row), {})
        if not times:
            continue
        fastest, name = fastest_peer(times)
        cells = [cell(times, codec, fastest) for codec in columns]
        speedup = f"{fastest / times[ours]:.2f}" if fastest and ours in times else "—"
        lines.append(f"| {row} | {' | '.join(cells)} | {name or '—'} | {speedup} |")
    lines.append("")
    lines.append(f"Allocations per operation (count, bytes), `{kind}/{version}`:")
    lines.append("")
    lines.append(f"| row | {' | '.join(columns)} |")
    lines.append("|" + "---|" * (len(columns) + 1))
    operations = allocs["operations"]
    for row in ROWS:
        if (kind, version, row) not in medians:
            continue
        cells = []
        for codec in columns:
            entry = operations.get(f"{kind}/{version}/{row}/{codec}")
            if entry is None:
                cells.append("—")
            else:
                cells.append(f"{entry['allocs']:g} ({entry['alloc_bytes']:g} B)")
        lines.append(f"| {row} | {' | '.join(cells)} |")
    return "\n".join(lines)


def stream_table(version, medians, allocs):
    times = medians.get(("stream", version, "mixed_1MiB"), {})
    if not times:
        return ""
    info = allocs["streams"].get(f"stream/{version}/mixed_1MiB", {})
    packets = info.get("packets")
    size = info.get("bytes")
    fastest, _ = fastest_peer(times)
    lines = [
        f"Stream `{version}`: {size or '?'} bytes, {packets or '?'} packets "
        f"({info.get('publishes', '?')} PUBLISH).",
        "",
        "| codec | median | MiB/s | Mpackets/s | ÷ fastest peer | allocs per stream |",
        "|---|---|---|---|---|---|",
    ]
    for codec in COLUMNS["stream"]:
        ns = times.get(codec)
        if ns is None:
            continue
        mib = f"{size / (ns * 1e-9) / 2**20:.0f}" if size else "?"
        mpps = f"{packets / (ns * 1e-9) / 1e6:.1f}" if packets else "?"
        ratio = f"{ns / fastest:.2f}" if fastest else "—"
        entry = allocs["operations"].get(f"stream/{version}/mixed_1MiB/{codec}")
        alloc = "—" if entry is None else f"{entry['allocs']:g}"
        lines.append(f"| {codec} | {fmt_time(ns)} | {mib} | {mpps} | {ratio} | {alloc} |")
    return "\n".join(lines)


def targets(medians):
    """The targets of the codec groundwork: per target and version, how many rows meet it and
    the worst one."""
    results = {}  # (target, version) -> [(row, figure, value, ok)]

    def add(target, version, row, figure, value, ok):
        results.setdefault((target, version), []).append((row, figure, value, ok))

    def times_of(kind, version, row):
        if row == "stream":
            return medians.get(("stream", version, "mixed_1MiB"), {})
        return medians.get((kind, version, row), {})

    for version in VERSIONS:
        for row in [*ROWS, "stream"]:
            times = times_of("decode", version, row)
            ours = times.get("ours_borrowed")
            owned = times.get("ours_owned")
            fastest, name = fastest_peer(times)
            if ours and fastest:
                add("borrowed decode no slower than the fastest peer", version, row,
                    f"{name} ÷ ours = {fastest / ours:.2f}", fastest / ours, fastest / ours >= 1)
            rumqttc = times.get("rumqttc")
            if owned and rumqttc:
                add("owned decode ≥ 1.5× faster than rumqttc", version, row,
                    f"rumqttc ÷ ours = {rumqttc / owned:.2f}", rumqttc / owned,
                    rumqttc / owned >= 1.5)
            if owned and ours:
                add("owned decode within 1.3× of borrowed decode", version, row,
                    f"owned ÷ borrowed = {owned / ours:.2f}", -owned / ours, owned / ours <= 1.3)
        times = times_of("encode", version, "publish_qos0_64KiB")
        if times.get("ours") and times.get("memcpy"):
            ratio = times["ours"] / times["memcpy"]
            add("64 KiB PUBLISH encode within 1.1× of memcpy", version, "publish_qos0_64KiB",
                f"ours ÷ memcpy = {ratio:.2f}", -ratio, ratio <= 1.1)
        large = times_of("decode", version, "publish_qos0_64KiB")
        small = times_of("decode", version, "publish_qos0_16B")
        for codec in ["ours_borrowed", "ours_owned"]:
            if large.get(codec) and small.get(codec):
                ratio = large[codec] / small[codec]
                add("64 KiB decode within 1.2× of 16 B decode", version, codec,
                    f"64 KiB ÷ 16 B = {ratio:.2f}", -ratio, ratio <= 1.2)

    lines = [
        "| target | version | rows met | worst row | verdict |",
        "|---|---|---|---|---|",
    ]
    for (target, version), rows in results.items():
        met = sum(ok for *_, ok in rows)
        row, figure, _, _ = min(rows, key=lambda entry: entry[2])
        verdict = "met" if met == len(rows) else "**not met**"
        lines.append(f"| {target} | {version} | {met}/{len(rows)} | {row}: {figure} | {verdict} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target-dir", help="cargo's target directory")
    args = parser.parse_args()
    criterion = target_dir(args.target_dir) / "criterion"
    medians = load_medians(criterion)
    if not medians:
        sys.exit(f"no codec benchmark results under {criterion}; run `cargo bench --bench codec`")
    allocs = load_allocs(criterion)

    out = []
    out.append("Each cell: criterion's median, then × the fastest peer's median on that row\n"
               "(×1.00 is the fastest peer; below 1 is faster than every peer).")
    for kind, title in [("decode", "Decode"), ("encode", "Encode")]:
        for version in VERSIONS:
            out.append(f"\n### {title}, {'3.1.1' if version == 'v311' else '5.0'}\n")
            out.append(packet_table(kind, version, medians, allocs))
    out.append("\n### Stream: 1 MiB of back-to-back mixed packets, decoded until empty\n")
    for version in VERSIONS:
        out.append(stream_table(version, medians, allocs))
        out.append("")
    out.append("### Targets\n")
    out.append(targets(medians))
    print("\n".join(out))


if __name__ == "__main__":
    main()
