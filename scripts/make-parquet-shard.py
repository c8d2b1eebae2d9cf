#!/usr/bin/env python3
"""Packs audio files into a parquet shard laid out as the Hugging Face `datasets` library
writes an `Audio` column: a struct {bytes, path}, an `id` column, the `huggingface` schema
metadata, snappy compression and 100 rows per row group (the figures in BENCHMARKS.md).

    scripts/make-parquet-shard.py OUT.parquet FILE... [--repeat N] [--rows-per-group 100]

`--repeat N` writes the files N times over (for a shard of a given size). Needs pyarrow."""
import argparse
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("files", nargs="+")
parser.add_argument("--repeat", type=int, default=1)
parser.add_argument("--rows-per-group", type=int, default=100)
args = parser.parse_args()

features = {
    "audio": {"sampling_rate": None, "decode": True, "_type": "Audio"},
    "id": {"dtype": "string", "_type": "Value"},
}
schema = pa.schema(
    [("audio", pa.struct([("bytes", pa.binary()), ("path", pa.string())])), ("id", pa.string())],
    metadata={"huggingface": json.dumps({"info": {"features": features}})},
)
rows = [(f, r) for r in range(args.repeat) for f in args.files]
with pq.ParquetWriter(args.out, schema, compression="snappy") as writer:
    for start in range(0, len(rows), args.rows_per_group):
        group = rows[start : start + args.rows_per_group]
        audio = [
            {"bytes": open(f, "rb").read(), "path": f"{r}/{os.path.basename(f)}"}
            for f, r in group
        ]
        ids = [f"{r}-{os.path.basename(f)}" for f, r in group]
        writer.write_table(pa.table({"audio": audio, "id": ids}, schema=schema))
