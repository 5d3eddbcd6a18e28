"""A small generated catalogue in the in-memory store, shared by the engine tests."""

from __future__ import annotations

import pytest

from mixops.local.engine import InMemoryStore, VectorIndex

URI = "mixpeek://text_extractor@v1/embedding"
TOPICS = {
    "running": "running shoes for marathon training and jogging",
    "cooking": "italian pasta recipes and cooking tomato sauce",
    "finance": "stock market investing and retirement savings",
    "gardening": "growing roses tulips and vegetable garden soil",
    "astronomy": "telescope stars galaxies and planets night sky",
}
COLORS = ["red", "blue", "green", "black"]


@pytest.fixture()
def store() -> InMemoryStore:
    s = InMemoryStore()
    col = s.add_collection(
        "products",
        [VectorIndex("text_extractor_v1_embedding", URI, 384, primary=True)],
        collection_id="col_products",
        text_fields=["title"],
    )
    docs = []
    for topic, text in TOPICS.items():
        for i in range(40):
            docs.append(
                {
                    "document_id": f"doc_{topic}_{i:02d}",
                    "title": f"{text} item {i}",
                    "category": topic,
                    "price": i * 2.5,
                    "metadata": {"color": COLORS[i % 4], "tags": [topic, COLORS[i % 4]]},
                }
            )
    s.add_documents(col.collection_id, docs)
    return s
