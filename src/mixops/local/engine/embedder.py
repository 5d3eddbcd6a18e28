"""Local text embedder: deterministic hashed n-gram vectors.

``Embedder`` is the interface (plug a real model in by implementing it);
``HashingEmbedder`` is the default, needing nothing but numpy.

How ``HashingEmbedder`` works: the text is Unicode-normalised (NFKC) and
lower-cased, then split into word tokens. Three kinds of features are hashed
into a fixed number of dimensions with blake2b (stable across processes and
machines, unlike Python's salted ``hash``): word unigrams, word bigrams and
character n-grams (3 and 4) of each word padded with boundary markers. A second
hash bit gives each feature a sign, so collisions cancel out on average instead
of piling up. The vector is L2-normalised, so a dot product is a cosine.

What it is good for: the same text always gives the same vector; texts that
share words, word pairs or word fragments ("running shoes" / "shoes for
runners") score high; unrelated texts score near zero. That is what tests and
offline demos of retrieval, taxonomy matching and clustering need.

Limits (it is lexical, not semantic):
- no synonyms or paraphrase ("car" and "automobile" are unrelated);
- no cross-language matching;
- hashing collisions add small noise (about 1/sqrt(dimensions) per pair);
- word order only counts through bigrams;
- its vectors are not comparable with those of any real model, so stored vectors
  that came from elsewhere must not be mixed with text queries embedded here.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

_WORD = re.compile(r"\w+", re.UNICODE)

# Relative weights of the feature kinds: whole words dominate, fragments give
# robustness to inflection and typos, bigrams reward shared phrases.
_UNIGRAM_WEIGHT = 1.0
_BIGRAM_WEIGHT = 0.7
_CHAR_WEIGHT = 0.35
_CHAR_SIZES = (3, 4)


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into fixed-size float32 vectors."""

    @property
    def name(self) -> str:
        """A stable identifier of the model (recorded with stored vectors)."""
        ...

    @property
    def dimensions(self) -> int:
        """Length of every vector ``embed`` returns."""
        ...

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """An ``(len(texts), dimensions)`` float32 matrix, one L2-normalised row per text.

        An empty or feature-less text gives a zero row.
        """
        ...


class HashingEmbedder:
    """Deterministic hashed word/char n-gram embedder (see the module docstring)."""

    def __init__(self, dimensions: int = 384) -> None:
        if dimensions < 8:
            raise ValueError("dimensions must be at least 8")
        self._dimensions = dimensions
        # Features and words repeat a lot across texts; caching keeps blake2b and
        # the n-gram loops off the hot path. Both caches are bounded.
        self._cache: dict[str, tuple[int, float]] = {}
        self._words: dict[str, list[tuple[int, float]]] = {}

    @property
    def name(self) -> str:
        return f"mixops-hashing-ngram-v1-{self._dimensions}"

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for row, text in enumerate(texts):
            words = tokenize(text)
            for word in words:
                for col, val in self._word_slots(word):
                    rows.append(row)
                    cols.append(col)
                    vals.append(val)
            for first, second in itertools.pairwise(words):
                col, sign = self._slot("b:" + first + " " + second)
                rows.append(row)
                cols.append(col)
                vals.append(sign * _BIGRAM_WEIGHT)
        size = len(texts) * self._dimensions
        flat = np.asarray(rows, dtype=np.int64) * self._dimensions + np.asarray(cols, dtype=np.int64)
        summed = np.bincount(flat, weights=np.asarray(vals, dtype=np.float64), minlength=size)
        out = summed.astype(np.float32).reshape(len(texts), self._dimensions)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out

    def _word_slots(self, word: str) -> list[tuple[int, float]]:
        """The unigram and character n-gram slots of one word."""
        hit = self._words.get(word)
        if hit is not None:
            return hit
        col, sign = self._slot("w:" + word)
        slots = [(col, sign * _UNIGRAM_WEIGHT)]
        padded = f"<{word}>"
        for size in _CHAR_SIZES:
            for i in range(len(padded) - size + 1):
                col, sign = self._slot("c:" + padded[i : i + size])
                slots.append((col, sign * _CHAR_WEIGHT))
        if len(self._words) > 200_000:
            self._words.clear()
        self._words[word] = slots
        return slots

    def _slot(self, feature: str) -> tuple[int, float]:
        hit = self._cache.get(feature)
        if hit is not None:
            return hit
        digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        slot = (value % self._dimensions, 1.0 if (value >> 63) & 1 else -1.0)
        if len(self._cache) > 500_000:
            self._cache.clear()
        self._cache[feature] = slot
        return slot


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens of ``text`` after NFKC normalisation."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())
