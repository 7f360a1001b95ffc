"""Group construction: single, intersectional, banded, unknown."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from audit.fairness.groups import (
    BAD_BANDS,
    UNKNOWN,
    GroupLabels,
    as_groups,
    band_label,
    encode_attribute,
    group_sets,
    make_groups,
)


def test_single_attribute_with_missing_values_forms_unknown_group() -> None:
    df = pd.DataFrame({"gender": ["F", "M", None, "F", np.nan, "", "M"]})
    g = make_groups(df, attributes=["gender"])
    assert g.names == ("gender=F", "gender=M", "gender=unknown")
    assert g.sizes.tolist() == [2, 2, 3]
    assert g.labels.tolist() == [
        "gender=F",
        "gender=M",
        "gender=unknown",
        "gender=F",
        "gender=unknown",
        "gender=unknown",
        "gender=M",
    ]
    assert g.n_rows == 7 and g.n_groups == 3
    table = g.size_table()
    assert table["n"].sum() == 7
    assert table["share"].sum() == pytest.approx(1.0)


def test_intersectional_labels_with_age_bands() -> None:
    df = pd.DataFrame(
        {
            "gender": ["F", "F", "M", "M", "F", None],
            "age": [18, 29.9, 30, 61, 150, np.nan],
        }
    )
    g = make_groups(df, attributes=["gender", "age"], bands={"age": [18, 30, 45, 60, 120]})
    assert g.labels.tolist() == [
        "gender=F|age=18-29",
        "gender=F|age=18-29",
        "gender=M|age=30-44",
        "gender=M|age=60-119",
        "gender=F|age=>=120",
        "gender=unknown|age=unknown",
    ]
    assert dict(zip(g.names, g.sizes.tolist(), strict=True)) == {
        "gender=F|age=18-29": 2,
        "gender=F|age=>=120": 1,
        "gender=M|age=30-44": 1,
        "gender=M|age=60-119": 1,
        "gender=unknown|age=unknown": 1,
    }
    # names follow band order, not string order
    assert g.names.index("gender=F|age=18-29") < g.names.index("gender=F|age=>=120")


def test_band_labels_and_below_range() -> None:
    codes, levels = encode_attribute([10, 18, 44.5, 45, None], bands=[18, 30, 45, 60, 120])
    assert levels == ["<18", "18-29", "30-44", "45-59", "60-119", ">=120", UNKNOWN]
    assert [levels[c] for c in codes] == ["<18", "18-29", "30-44", "45-59", UNKNOWN]
    assert band_label(0.5, 1.5) == "[0.5, 1.5)"


def test_group_sets_single_and_crossed() -> None:
    df = pd.DataFrame({"a": ["x", "y", "x"], "b": ["p", "p", "q"]})
    sets = group_sets(df, attributes=["a", "b"])
    assert set(sets) == {"a", "b", "a|b"}
    assert sets["a|b"].names == ("a=x|b=p", "a=x|b=q", "a=y|b=p")
    assert group_sets(df, attributes=["a", "b"], intersectional=False).keys() == {"a", "b"}


def test_as_groups_from_array_and_dataframe() -> None:
    g = as_groups(np.array(["b", None, "a", "b"], dtype=object))
    assert isinstance(g, GroupLabels)
    assert g.names == ("a", "b", UNKNOWN)
    assert g.codes.tolist() == [1, 2, 0, 1]
    assert as_groups(g) is g
    g2 = as_groups(pd.DataFrame({"s": ["u", "v"]}))
    assert g2.names == ("s=u", "s=v")
    assert as_groups([1, 2, 2]).names == ("1", "2")


def test_subset_keeps_present_groups() -> None:
    g = as_groups(["a", "b", "c", "a"])
    sub = g.subset(np.array([True, False, False, True]))
    assert sub.names == ("a",)
    assert sub.sizes.tolist() == [2]


def test_errors() -> None:
    df = pd.DataFrame({"age": [1, "x"], "g": ["a", "b"]})
    with pytest.raises(ValueError, match="non-numeric"):
        make_groups(df, attributes=["age"], bands={"age": [0, 10]})
    with pytest.raises(ValueError, match="strictly increasing"):
        make_groups(df, attributes=["g"], bands={"g": [3, 1]})
    assert "strictly increasing" in BAD_BANDS
    with pytest.raises(KeyError):
        make_groups(df, attributes=["missing"])
    with pytest.raises(ValueError):
        make_groups(df, attributes=[])
