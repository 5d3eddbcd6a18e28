from __future__ import annotations

import subprocess
import sys

import numpy as np

from mixops.local.engine import HashingEmbedder


def test_same_text_same_vector_across_processes() -> None:
    here = HashingEmbedder().embed(["Running shoes for trail"])[0]
    code = (
        "from mixops.local.engine import HashingEmbedder;"
        "print(','.join(repr(float(v)) for v in HashingEmbedder().embed(['Running shoes for trail'])[0]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    there = np.array([float(v) for v in out.strip().split(",")], dtype=np.float32)
    assert np.array_equal(here, there)


def test_vectors_are_unit_length_and_sized() -> None:
    emb = HashingEmbedder(dimensions=128)
    m = emb.embed(["a quick fox", "", "!!!"])
    assert m.shape == (3, 128)
    assert np.isclose(np.linalg.norm(m[0]), 1.0)
    assert not m[1].any() and not m[2].any()


def test_lexically_close_texts_score_higher() -> None:
    v = HashingEmbedder().embed(["running shoes", "running shoe for runners", "tax law in europe"])
    assert v[0] @ v[1] > 0.4
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3
