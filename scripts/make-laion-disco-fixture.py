#!/usr/bin/env python3
"""Writes testdata/manifests/laion-disco/train-00000-of-00001.parquet: three rows in the
layout of LAION-DISCO-12M's parquet files (the dataset card's features: song_id, title,
artist_names, artist_ids, album_name, album_id, isExplicit, views, duration), with the
`huggingface` schema metadata that the `datasets` library writes. The rows describe the
catalogue fixtures under made-up 11-character video ids, and one song with no audio.

Needs pyarrow (`pip install pyarrow`). Run from the repository root."""
import json

import pyarrow as pa
import pyarrow.parquet as pq

features = {
    "song_id": {"dtype": "string", "_type": "Value"},
    "title": {"dtype": "string", "_type": "Value"},
    "artist_names": {"feature": {"dtype": "string", "_type": "Value"}, "_type": "Sequence"},
    "artist_ids": {"feature": {"dtype": "string", "_type": "Value"}, "_type": "Sequence"},
    "album_name": {"dtype": "string", "_type": "Value"},
    "album_id": {"dtype": "string", "_type": "Value"},
    "isExplicit": {"dtype": "bool", "_type": "Value"},
    "views": {"dtype": "string", "_type": "Value"},
    "duration": {"dtype": "int64", "_type": "Value"},
}
schema = pa.schema(
    [
        ("song_id", pa.string()),
        ("title", pa.string()),
        ("artist_names", pa.list_(pa.string())),
        ("artist_ids", pa.list_(pa.string())),
        ("album_name", pa.string()),
        ("album_id", pa.string()),
        ("isExplicit", pa.bool_()),
        ("views", pa.string()),
        ("duration", pa.int64()),
    ],
    metadata={"huggingface": json.dumps({"info": {"features": features}})},
)
rows = {
    "song_id": ["UfoBasrah05", "WesSiege003", "Absent00001"],
    "title": ["alBasrahM", "Siege of Laurelmor", "Absent Song"],
    "artist_names": [["Independent.nu", "Golgotha"], ["Doug Kaufman"], ["Nobody"]],
    "artist_ids": [["UCindependentnu0000000", "UCgolgotha000000000000"], ["UCdougkaufman000000000"], ["UCnobody00000000000000"]],
    "album_name": ["UFO: Alien Invasion", "The Battle for Wesnoth", None],
    "album_id": ["MPREb_ufoai0000", "MPREb_wesnoth00", None],
    "isExplicit": [False, False, True],
    "views": ["1.2K", "845", "12M"],
    "duration": [30, 30, 201],
}
pq.write_table(
    pa.table(rows, schema=schema),
    "testdata/manifests/laion-disco/train-00000-of-00001.parquet",
    compression="snappy",
)
