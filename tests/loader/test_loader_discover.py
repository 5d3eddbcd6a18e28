"""Finding manifest files, and loading a whole project with every problem reported."""

from __future__ import annotations

from pathlib import Path

from mixops.ports.yamlsource import discover, display_path, load_paths


def make(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_directories_are_walked_in_a_deterministic_order(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "manifests/b.yaml": "a: 1\n",
            "manifests/a/z.yml": "a: 1\n",
            "manifests/a/b/c.yaml": "a: 1\n",
            "manifests/C.yaml": "a: 1\n",
            "manifests/notes.txt": "x",
            "manifests/data.json": "{}",
            "manifests/.hidden.yaml": "a: 1\n",
            "manifests/.git/config.yaml": "a: 1\n",
        },
    )
    files, problems = discover([tmp_path / "manifests"], root=tmp_path)
    assert problems == []
    assert [display_path(f, tmp_path) for f in files] == [
        "manifests/C.yaml",
        "manifests/a/b/c.yaml",
        "manifests/a/z.yml",
        "manifests/b.yaml",
    ]


def test_explicit_files_keep_the_given_order_and_are_listed_once(tmp_path: Path) -> None:
    make(tmp_path, {"m/b.yaml": "a: 1\n", "m/a.yaml": "a: 1\n", "extra.txt": "a: 1\n"})
    files, problems = discover([tmp_path / "m/b.yaml", tmp_path / "m", tmp_path / "extra.txt"], root=tmp_path)
    assert problems == []
    assert [display_path(f, tmp_path) for f in files] == ["m/b.yaml", "m/a.yaml", "extra.txt"]


def test_project_file_at_the_root_is_not_a_manifest(tmp_path: Path) -> None:
    make(tmp_path, {"mixops.yaml": "stack: x\n", "retrievers.yaml": "a: 1\n", "sub/mixops.yaml": "a: 1\n"})
    files, _ = discover([tmp_path], root=tmp_path)
    assert [display_path(f, tmp_path) for f in files] == ["retrievers.yaml", "sub/mixops.yaml"]


def test_missing_path_is_a_problem_with_a_fix(tmp_path: Path) -> None:
    make(tmp_path, {"m/a.yaml": "a: 1\n"})
    files, problems = discover([tmp_path / "m", tmp_path / "manifest"], root=tmp_path)
    assert len(files) == 1
    assert [(p.file, p.message) for p in problems] == [("manifest", "path does not exist")]
    assert "manifests:" in problems[0].fix


def test_directory_without_yaml_is_a_problem(tmp_path: Path) -> None:
    make(tmp_path, {"m/readme.md": "x"})
    _, problems = discover([tmp_path / "m"], root=tmp_path)
    assert [(p.file, p.message) for p in problems] == [("m", "directory contains no .yaml or .yml files")]


def test_paths_outside_the_root_are_refused_not_read(tmp_path: Path) -> None:
    make(tmp_path, {"elsewhere/a.yaml": "version: '1.0'\n", "project/m/ok.yaml": "version: '1.0'\n"})
    root = tmp_path / "project"
    docs, problems = load_paths([tmp_path / "elsewhere", root / ".." / "elsewhere" / "a.yaml", root / "m"], root=root)
    assert [d.file for d in docs] == ["m/ok.yaml"]
    assert [p.file for p in problems] == [(tmp_path / "elsewhere").as_posix(), "../elsewhere/a.yaml"]
    assert all("outside the project directory" in p.message for p in problems)
    assert all("move or copy them" in p.fix for p in problems)


def test_a_symlink_leading_out_of_the_project_is_refused(tmp_path: Path) -> None:
    make(tmp_path, {"secret.yaml": "version: '1.0'\n", "project/m/ok.yaml": "version: '1.0'\n"})
    root = tmp_path / "project"
    (root / "m" / "link.yaml").symlink_to(tmp_path / "secret.yaml")
    (root / "inside.yaml").symlink_to(root / "m" / "ok.yaml")
    docs, problems = load_paths([root / "m", root / "inside.yaml"], root=root)
    assert [d.file for d in docs] == ["m/ok.yaml", "inside.yaml"]
    assert [(p.file, p.message) for p in problems] == [
        (
            "m/link.yaml",
            f"manifest path is outside the project directory (it resolves to {tmp_path.resolve() / 'secret.yaml'})",
        )
    ]


def test_load_paths_reports_every_problem_of_every_file(tmp_path: Path) -> None:
    make(
        tmp_path,
        {
            "m/1_ok.yaml": "version: '1.0'\nretrievers: []\n",
            "m/2_dup.yaml": "a: 1\na: 2\n",
            "m/3_syntax.yaml": "a: [\n",
            "m/4_empty.yaml": "",
            "m/5_list.yaml": "- 1\n",
            "m/sub/6_multi.yaml": "x: 1\n---\ny: 2\ny: 3\n",
        },
    )
    (tmp_path / "m" / "7_latin1.yaml").write_bytes(b"a: \xff\n")
    docs, problems = load_paths([tmp_path / "m", tmp_path / "missing"], root=tmp_path)
    assert [(d.file, d.index) for d in docs] == [
        ("m/1_ok.yaml", 0),
        ("m/2_dup.yaml", 0),
        ("m/sub/6_multi.yaml", 0),
        ("m/sub/6_multi.yaml", 1),
    ]
    assert sorted((p.file, p.line) for p in problems) == [
        ("m/2_dup.yaml", 2),
        ("m/3_syntax.yaml", 2),
        ("m/4_empty.yaml", 1),
        ("m/5_list.yaml", 1),
        ("m/7_latin1.yaml", 1),
        ("m/sub/6_multi.yaml", 4),
        ("missing", 0),
    ]
    assert all(p.message and p.fix for p in problems)
