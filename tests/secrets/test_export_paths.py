"""Finding 10: export never writes outside its output directory.

With `--layout per-resource` the file name comes from the live resource name,
which anyone with API access chooses.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.secrets.conftest import invoke

HOSTILE = "../../escape"


def _seed_hostile_retriever(project: Path) -> None:
    """A live retriever whose name would climb out of the export directory.

    The local backend refuses such a name over HTTP, but the hosted API documents no
    pattern for retriever names, so export must hold whatever a namespace returns. A
    seed file (loaded without the HTTP name check) puts one there.
    """
    (project / "data" / "hostile.yaml").write_text(
        json.dumps(
            {
                "retrievers": [
                    {
                        "retriever_name": HOSTILE,
                        "collection_identifiers": ["products"],
                        "input_schema": {"query": {"type": "text", "required": True}},
                        "stages": [
                            {
                                "stage_name": "search",
                                "stage_type": "filter",
                                "config": {
                                    "stage_id": "feature_search",
                                    "parameters": {
                                        "searches": [
                                            {
                                                "feature_uri": "mixpeek://text_extractor@v1/embedding",
                                                "query": {"input_mode": "text", "value": "{{INPUT.query}}"},
                                                "top_k": 10,
                                            }
                                        ],
                                        "final_top_k": 10,
                                    },
                                },
                            }
                        ],
                    }
                ]
            }
        ),
        encoding="utf-8",
    )
    config = project / "mixops.yaml"
    text = config.read_text(encoding="utf-8")
    assert "seed: [data/seed.yaml]" in text
    config.write_text(
        text.replace("seed: [data/seed.yaml]", "seed: [data/seed.yaml, data/hostile.yaml]"), encoding="utf-8"
    )


def test_per_resource_export_keeps_hostile_names_inside_the_output_directory(catalog: Path, tmp_path: Path) -> None:
    invoke(catalog, {}, "apply", "--no-tests", "--auto-approve")
    _seed_hostile_retriever(catalog)
    out_dir = tmp_path / "deep" / "er" / "exported"
    before = {p for p in tmp_path.rglob("*") if out_dir not in p.parents}

    output = invoke(catalog, {}, "export", "--all", "--layout", "per-resource", "-o", str(out_dir))

    after = {p for p in tmp_path.rglob("*") if out_dir not in p.parents and p != out_dir}
    assert after - before - {out_dir.parent, out_dir.parent.parent} == set(), "export wrote outside -o"
    written = sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*.yaml"))
    assert "retrievers/product_search.yaml" in written, output
    [hostile] = [p for p in written if "escape" in p]
    assert hostile.startswith("retrievers/") and ".." not in hostile
    text = (out_dir / hostile).read_text()
    assert "name: ../../escape" in text, "the resource keeps its real name; only the file name is sanitised"


def test_export_refuses_a_path_that_resolves_outside_through_a_symlink(catalog: Path, tmp_path: Path) -> None:
    invoke(catalog, {}, "apply", "--no-tests", "--auto-approve")
    out_dir = tmp_path / "exported"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out_dir.mkdir()
    (out_dir / "retrievers").symlink_to(elsewhere, target_is_directory=True)

    output = invoke(catalog, {}, "export", "--layout", "per-resource", "-o", str(out_dir))

    assert "resolves outside the output directory" in output
    assert list(elsewhere.iterdir()) == []
    assert list(out_dir.rglob("*.yaml")) == [], "nothing is written when any file would escape"
