#!/usr/bin/python3
"""Prints the side-by-side table of a bench/compare.sh run directory.

Reads membw.json and the <model>-t<threads>-r<round>-<llama|autan>.json files
(with their .rss peak-memory files when present) and prints, per model,
thread count and test, the median t/s of each engine over the rounds, the
median of the per-round ratios autan / llama.cpp, and for decode rows each
engine's fraction of the bandwidth roofline. Standard library only.
"""
import datetime
import json
import os
import re
import statistics
import sys

RUN_RE = re.compile(r"^(?P<model>.+)-t(?P<threads>\d+)-r(?P<round>\d+)-(?P<engine>llama|autan)\.json$")


def cpu_name():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def run_meta(run_dir):
    """What compare.sh recorded about the run (binary, source tree, flags)."""
    try:
        with open(os.path.join(run_dir, "meta.json"), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def test_name(record):
    p, n = int(record["n_prompt"]), int(record["n_gen"])
    return f"pp{p}" if n == 0 else f"tg{n}" if p == 0 else f"pp{p}+tg{n}"


def load_runs(run_dir):
    """{(model, threads, test): {"llama": {round: rec}, "autan": {...}}}, rss, llama build."""
    runs, rss, build = {}, {}, "unknown"
    for name in sorted(os.listdir(run_dir)):
        m = RUN_RE.match(name)
        if not m:
            continue
        path = os.path.join(run_dir, name)
        try:
            with open(path, encoding="utf-8") as f:
                records = json.load(f)
        except (OSError, ValueError) as e:  # a run cut short: report the rest
            print(f"compare_report.py: skipping {name}: {e}", file=sys.stderr)
            continue
        model, threads = m["model"], int(m["threads"])
        engine, rnd = m["engine"], int(m["round"])
        for r in records:
            key = (model, threads, test_name(r))
            runs.setdefault(key, {"llama": {}, "autan": {}})[engine][rnd] = r
            if engine == "llama":
                build = r.get("build_commit", build)
        rss_path = path[:-len(".json")] + ".rss"
        if os.path.exists(rss_path):
            with open(rss_path, encoding="utf-8") as f:
                lines = [ln for ln in f.read().split() if ln.isdigit()]
            if lines:
                kib = int(lines[-1])
                k = (model, threads, engine)
                rss[k] = max(rss.get(k, 0), kib)
    return runs, rss, build


def fmt(x, spec="%.2f"):
    return "" if x is None else spec % x


def main(run_dir):
    with open(os.path.join(run_dir, "membw.json"), encoding="utf-8") as f:
        membw = {r["threads"]: r["gbps"] for r in json.load(f)["results"]}
    runs, rss, build = load_runs(run_dir)
    if not runs:
        print(f"compare_report.py: no results in {run_dir}", file=sys.stderr)
        return 1
    meta = run_meta(run_dir)
    print(f"date: {datetime.date.today().isoformat()}, CPU: {cpu_name()}, "
          f"llama.cpp build {build}")
    if meta:
        print(f"autan: {meta.get('autan')} (source tree {meta.get('tree')}), "
              f"bench flags {meta.get('args')}")
    print("read bandwidth (autan-membw, median): "
          + ", ".join(f"{t} thread{'s' if t > 1 else ''} {g:.1f} GB/s"
                      for t, g in sorted(membw.items())))
    print()
    print("| model | threads | test | llama.cpp t/s | autan t/s | autan/llama.cpp "
          "| roofline t/s | llama.cpp % roofline | autan % roofline | peak RSS MiB llama / autan |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    above_roof = False
    for (model, threads, test), engines in sorted(runs.items(), key=lambda kv: (
            kv[0][0], kv[0][1], not kv[0][2].startswith("pp"))):
        llama, autan = engines["llama"], engines["autan"]
        both = sorted(set(llama) & set(autan))
        llama_ts = statistics.median(llama[r]["avg_ts"] for r in llama) if llama else None
        autan_ts = statistics.median(autan[r]["avg_ts"] for r in autan) if autan else None
        ratio = (statistics.median(autan[r]["avg_ts"] / llama[r]["avg_ts"] for r in both)
                 if both else None)
        roof = llama_pct = autan_pct = None
        if test.startswith("tg") and autan and threads in membw:
            any_autan = next(iter(autan.values()))
            roof = membw[threads] * 1e9 / any_autan["decode_bytes_per_token"]
            llama_pct = 100 * llama_ts / roof if llama_ts else None
            autan_pct = 100 * autan_ts / roof
        mem = " / ".join(fmt(rss[(model, threads, e)] / 1024, "%.0f")
                         if (model, threads, e) in rss else "?" for e in ("llama", "autan"))
        print(f"| {model} | {threads} | {test} | {fmt(llama_ts)} | {fmt(autan_ts)} "
              f"| {fmt(ratio, '%.2fx')} | {fmt(roof, '%.1f')} | {fmt(llama_pct, '%.0f%%')} "
              f"| {fmt(autan_pct, '%.0f%%')} | {mem} |")
        above_roof = above_roof or max(llama_pct or 0, autan_pct or 0) > 100
    if above_roof:
        print("\nAbove 100% of the roofline: the weights fit in the CPU caches, so main-memory "
              "bandwidth does not bound that model.")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: compare_report.py RUN_DIR", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
