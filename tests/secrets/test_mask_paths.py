"""Masking by path (core/placeholders): the pure rules behind finding 6."""

from __future__ import annotations

from mixops.core.placeholders import mask_at_paths, mask_with_template, resolve

ENV = {"KEY": "new-secret"}


def test_resolution_records_where_env_values_went_and_their_template() -> None:
    res = resolve(
        {"a": "key ${{ env.KEY }} (${{ params.n }})", "b": "${{ params.n }}", "c": ["${{ env.KEY }}"]}, {"n": 3}, ENV
    )
    assert res.data == {"a": "key new-secret (3)", "b": 3, "c": ["new-secret"]}
    assert set(res.secret_paths) == {("a",), ("c", 0)}
    # The template keeps the literal text (parameters filled in) and names the variable.
    assert mask_with_template("key old (3)", res.secret_paths[("a",)], lambda n: f"<{n}>") == "key <KEY> (3)"


def test_an_old_value_is_masked_where_the_template_puts_the_secret() -> None:
    paths = resolve({"a": "key ${{ env.KEY }} (x)"}, {}, ENV).secret_paths
    assert mask_at_paths("key old-secret (x)", ("a",), paths) == "key *** (x)"
    # Edited by hand: the secret part cannot be told, so all of it goes.
    assert mask_at_paths("old-secret", ("a",), paths) == "***"
    assert mask_at_paths({"a": "key old-secret (x)", "b": "shown"}, (), paths) == {"a": "key *** (x)", "b": "shown"}
    assert mask_at_paths("shown", ("b",), paths) == "shown"


def test_list_positions_are_ignored_unless_exact_paths_are_asked_for() -> None:
    paths = resolve({"s": [{"q": "${{ env.KEY }}"}, {"q": "plain"}]}, {}, ENV).secret_paths
    live = [{"q": "plain"}, {"q": "old-secret"}]  # a stage was inserted: the old value moved
    assert mask_at_paths(live, ("s",), paths) == [{"q": "***"}, {"q": "***"}]
    exact = mask_at_paths(live, ("s",), paths, any_index=False, fill=lambda n: f"${{{{ env.{n} }}}}")
    assert exact == [{"q": "${{ env.KEY }}"}, {"q": "old-secret"}]


def test_export_fill_writes_the_template_back() -> None:
    template = ((False, "Bearer "), (True, "TOKEN"))
    assert mask_with_template("Bearer abc", template, lambda n: "${{ env." + n + " }}") == "Bearer ${{ env.TOKEN }}"
    assert mask_with_template(42, template) == "***"
