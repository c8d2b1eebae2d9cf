#!/usr/bin/env python3
# Usage: scripts/bench-tables.py /work/bench/bench-corpus /work/bench/bench-holdout [--throughput decode_ratio.txt]
#
# Prints BENCHMARKS.md's accuracy tables from the corpora, so that the document's figures come
# from one run of `earmark eval` rather than from hand-copied numbers.
#
# Each directory is an OUT_DIR of scripts/bench-corpus.sh (CORPUS unset, holdout, third or
# fourth); its eval.json is what `earmark eval --json` wrote (src/cli/eval.rs, `Report` and
# `Row`). For each one a Markdown table, one row per degradation and a total row, headed by the
# directory's name and the date eval.json was last written (UTC): that date is when the figures
# were measured, which is what a reader of a benchmark table needs beside the command.
#
# --throughput FILE reads the saved output of `cargo bench --bench decode_ratio` (one line per
# run: "decode alone 8.75 ms (1143x real time), whole pipeline 22.04 ms (454x), ratio 2.52")
# and prints one row; several runs in the file become ranges, as the VM's run-to-run noise
# (about ±20 %) makes a single run misleading.
#
# Python 3 standard library only.

import argparse
import datetime
import json
import os
import re
import sys

RATIO_LINE = re.compile(
    r"decode alone ([\d.]+) ms \(([\d.]+)x real time\), "
    r"whole pipeline ([\d.]+) ms \(([\d.]+)x\), ratio ([\d.]+)"
)


def file_date(path):
    """The file's modification date, UTC, as YYYY-MM-DD."""
    mtime = os.stat(path).st_mtime
    return datetime.datetime.fromtimestamp(mtime, datetime.timezone.utc).strftime("%Y-%m-%d")


def percent(value):
    # eval writes recall as a fraction, and null where a row has no catalogue query.
    return "–" if value is None else f"{100.0 * value:.1f} %"


def times_real_time(value):
    return "–" if value is None else f"{value:.0f}x"


def row_cells(name, row):
    return [
        name,
        str(row.get("queries", 0)),
        percent(row.get("recall")),
        str(row.get("wrong", 0)),
        str(row.get("false_positives", 0)),
        str(row.get("errors", 0)),
        times_real_time(row.get("x_real_time_per_core")),
    ]


def markdown(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines)


def accuracy_table(directory):
    path = os.path.join(directory, "eval.json")
    with open(path, encoding="utf-8") as f:
        report = json.load(f)
    name = os.path.basename(os.path.normpath(directory))
    out = [f"### {name} (eval.json of {file_date(path)})", ""]
    queries = report.get("queries")
    wall = report.get("wall_seconds")
    if queries is not None and wall is not None:
        out += [f"{queries} queries, {wall:.1f} s wall, index `{report.get('index', '?')}`.", ""]
    degradations = report.get("degradations", {})
    rows = [row_cells(deg, degradations[deg]) for deg in sorted(degradations)]
    rows.append(row_cells("(all)", report.get("totals", {})))
    header = ["degradation", "queries", "recall", "wrong", "FP", "errors", "xRT/core"]
    out.append(markdown(header, rows))
    return "\n".join(out)


def span(values, fmt):
    low, high = min(values), max(values)
    return fmt.format(low) if low == high else (fmt + "–" + fmt).format(low, high)


def throughput_table(path):
    with open(path, encoding="utf-8") as f:
        runs = [tuple(map(float, m.groups())) for m in RATIO_LINE.finditer(f.read())]
    if not runs:
        raise ValueError(f"{path}: no line of `cargo bench --bench decode_ratio` output")
    decode_ms, decode_x, pipe_ms, pipe_x, ratio = (list(col) for col in zip(*runs))
    # The pipeline's share of decode-only throughput is 1 / ratio; issue 4 asks for 70 %.
    share = [100.0 / r for r in ratio]
    header = ["runs", "decode alone", "whole pipeline", "ratio", "share of decode-only throughput", "date"]
    cells = [
        str(len(runs)),
        f"{span(decode_ms, '{:.2f}')} ms ({span(decode_x, '{:.0f}')}x)",
        f"{span(pipe_ms, '{:.2f}')} ms ({span(pipe_x, '{:.0f}')}x)",
        span(ratio, "{:.2f}") + "x",
        span(share, "{:.0f}") + " %",
        file_date(path),
    ]
    return "### Throughput (`cargo bench --bench decode_ratio`)\n\n" + markdown(header, [cells])


def main():
    parser = argparse.ArgumentParser(
        description="Markdown accuracy and throughput tables for BENCHMARKS.md."
    )
    parser.add_argument("corpora", nargs="*", help="OUT_DIRs of scripts/bench-corpus.sh")
    parser.add_argument("--throughput", metavar="FILE", help="saved decode_ratio output")
    args = parser.parse_args()
    if not args.corpora and not args.throughput:
        parser.error("give at least one corpus directory or --throughput FILE")

    failed = False
    sections = []
    for directory in args.corpora:
        try:
            sections.append(accuracy_table(directory))
        except (OSError, ValueError, KeyError, TypeError) as e:
            # One corpus not built yet should not hide the others' tables.
            print(f"bench-tables: {directory}: {e}", file=sys.stderr)
            failed = True
    if args.throughput:
        try:
            sections.append(throughput_table(args.throughput))
        except (OSError, ValueError) as e:
            print(f"bench-tables: {e}", file=sys.stderr)
            failed = True
    print("\n\n".join(sections))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
