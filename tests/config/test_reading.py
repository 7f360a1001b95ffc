"""Reading real exports: separators, encodings, option keys, duplicate headers, tiny files."""

from __future__ import annotations

import pandas as pd
import pytest

from audit.cli import main
from audit.config.reading import sniff_separator

from .conftest import customers

BASE = """
datasets:
  crm:
    source: {{path: {path}{options}}}
    roles: {{id: customer_id, protected: [gender], target: churn}}
"""


def cfg(path: str = "crm.csv", options: str = "") -> str:
    return BASE.format(path=path, options=f", options: {options}" if options else "")


@pytest.mark.parametrize(("sep", "name"), [(";", "semicolon"), ("\t", "tab"), ("|", "pipe"), (",", "comma")])
def test_separator_sniffed_and_recorded(project, sep, name):
    df = customers(50)
    df["monthly"] = df["monthly"].map(lambda v: f"{v:.2f}")
    project.write("crm.csv", df.to_csv(sep=sep, index=False))
    project.config(cfg())
    ctx = project.load()
    ds = ctx.datasets["crm"]
    assert list(ds.frame.columns) == list(df.columns)
    assert ds.reading["sep"] == sep and ds.reading["sep_name"] == name and ds.reading["sep_source"] == "sniffed"
    assert project.inputs()[0]["read"]["sep"] == sep


def test_semicolon_file_read_as_comma_is_refused(project):
    df = customers(20)
    project.write("crm.csv", df.to_csv(sep=";", index=False))
    project.config(cfg(options="{sep: ','}"))
    msg = project.error()
    assert "datasets.crm.source.options.sep" in msg
    assert "read as one column named 'customer_id;gender;age" in msg
    assert "the header contains semicolon characters" in msg
    assert "hint: set source.options.sep to ';' (it is ',')" in msg


def test_sniffer_prefers_consistent_field_counts():
    text = "a;b;c\n1,5;2;3\n4,5;5;6\n"  # decimal commas must not win over the ';' separator
    assert sniff_separator(text) == ";"


def test_latin1_file_falls_back_and_says_so(project):
    df = pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "gender": ["F", "M", "F"], "city": ["Zürich", "Genève", "Köln"], "churn": ["Yes", "No", "No"]})
    project.write("crm.csv", df.to_csv(index=False).encode("latin-1"))
    project.config(cfg())
    ds = project.load().datasets["crm"]
    assert ds.frame["city"].tolist() == ["Zürich", "Genève", "Köln"]
    assert ds.reading["encoding"] == "latin-1" and ds.reading["encoding_source"] == "fallback"
    assert "not valid UTF-8" in ds.reading["notes"][0]


def test_latin1_file_with_declared_utf8_names_the_key(project):
    df = pd.DataFrame({"customer_id": ["C1", "C2"], "gender": ["F", "M"], "city": ["Zürich", "Köln"], "churn": ["Yes", "No"]})
    project.write("crm.csv", df.to_csv(index=False).encode("latin-1"))
    project.config(cfg(options="{encoding: utf-8}"))
    msg = project.error()
    assert "datasets.crm.source.options.encoding: dataset 'crm' (crm.csv): the file is not valid utf-8" in msg
    assert "hint: set source.options.encoding to the file's encoding" in msg


@pytest.mark.parametrize(("encoding", "expected"), [("utf-16", "utf-16"), ("utf-8-sig", "utf-8-sig")])
def test_bom_encodings(project, encoding, expected):
    df = pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "gender": ["女", "男", "女"], "churn": ["Yes", "No", "Yes"]})
    project.write("crm.csv", df.to_csv(index=False, sep="\t").encode(encoding))
    project.config(cfg())
    ds = project.load().datasets["crm"]
    assert list(ds.frame.columns) == ["customer_id", "gender", "churn"]
    assert ds.frame["gender"].tolist() == ["女", "男", "女"]
    assert ds.reading["encoding"] == expected and ds.reading["encoding_source"] == "BOM" and ds.reading["sep"] == "\t"


def test_utf16_without_bom_is_refused(project):
    df = pd.DataFrame({"customer_id": ["C1", "C2", "C3"] * 10, "gender": ["F", "M", "F"] * 10, "churn": ["Yes", "No", "Yes"] * 10})
    project.write("crm.csv", df.to_csv(index=False).encode("utf-16-le"))
    project.config(cfg())
    msg = project.error()
    assert "datasets.crm.source.options.encoding" in msg and "UTF-16 without a byte-order mark" in msg
    assert "set source.options.encoding to utf-16-le or utf-16-be" in msg


def test_chinese_utf8_file(project):
    df = pd.DataFrame({"客户编号": [f"K{i}" for i in range(6)], "性别": ["女", "男"] * 3, "留言": ["我想退订这个套餐，太贵了"] * 6, "流失": ["是", "否"] * 3})
    project.write("crm.csv", df.to_csv(index=False))
    project.config("datasets:\n  crm:\n    source: {path: crm.csv}\n    roles: {id: 客户编号, protected: [性别], text: [留言]}\n")
    ds = project.load().datasets["crm"]
    assert ds.frame["留言"].iloc[0] == "我想退订这个套餐，太贵了"
    assert ds.reading["encoding"] == "utf-8"


def test_unknown_key_under_source_lists_source_keys(project):
    project.write("crm.csv", customers(5).to_csv(index=False))
    project.config(BASE.format(path="crm.csv", options=", sep: ';'"))
    msg = project.error()
    assert "datasets.crm.source.sep: unknown key 'sep'" in msg
    assert "allowed keys: format, options, path, query, table, url" in msg


def test_unknown_option_lists_option_keys(project):
    project.write("crm.csv", customers(5).to_csv(index=False))
    project.config(cfg(options="{delimiter: ';'}"))
    msg = project.error()
    assert "datasets.crm.source.options.delimiter: unknown key 'delimiter'" in msg
    assert "allowed keys: decimal, encoding, na_values, sep, skipinitialspace, thousands" in msg


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("{sep: ';;'}", "sep must be one character, got ';;'"),
        ("{sep: a}", "sep 'a' cannot separate fields"),
        ("{encoding: klingon}", "unknown encoding 'klingon'"),
        ("{decimal: ',', thousands: ','}", "thousands and decimal must differ"),
        ("{na_values: '?'}", "datasets.crm.source.options.na_values: Input should be a valid list"),
    ],
)
def test_options_validated_strictly(project, options, expected):
    project.config(cfg(options=options))
    msg = project.error()
    assert expected in msg


def test_csv_options_refused_for_parquet(project):
    customers(5).to_parquet(project.root / "crm.parquet")
    project.config(cfg(path="crm.parquet", options="{sep: ';'}"))
    assert "options ['sep'] apply to CSV files only; this source is parquet" in project.error()


def test_decimal_comma_and_thousands(project):
    project.write("crm.csv", "customer_id;gender;income;churn\nC1;F;1.234,5;Yes\nC2;M;2.000,25;No\nC3;F;;No\n")
    project.config(cfg(options="{decimal: ',', thousands: '.'}"))
    ds = project.load().datasets["crm"]
    assert ds.frame["income"].tolist()[:2] == [1234.5, 2000.25] and pd.isna(ds.frame["income"].iloc[2])


def test_duplicate_column_names_are_refused(project):
    project.write("crm.csv", "customer_id,gender,age,gender,churn\nC1,F,30,M,Yes\nC2,M,40,F,No\n")
    project.config(cfg())
    msg = project.error()
    assert "duplicate column name(s) in the header: 'gender'" in msg
    assert "rename the repeated columns" in msg


@pytest.mark.parametrize(("rows", "what"), [(0, "is empty (0 rows)"), (1, "has 1 row")])
def test_empty_and_one_row_files_are_refused(project, rows, what):
    project.write("crm.csv", customers(5).head(rows).to_csv(index=False))
    project.config(cfg())
    msg = project.error()
    assert f"dataset 'crm' {what}: an audit compares rows and groups and needs at least 2" in msg
    assert "hint: point the source at the full table" in msg


def test_empty_audit_is_exit_2(project, capsys):
    project.config("datasets: {}\nmodels: []\n")
    assert main(["run", "--config", str(project.root / "audit.yaml"), "--out", str(project.root / "out")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "datasets: the config declares no dataset and no model: there is nothing to audit" in err
    assert not (project.root / "out").exists()


def test_one_column_file_exits_2_from_the_command_line(project, capsys):
    project.write("crm.csv", customers(20).to_csv(sep="|", index=False))
    project.config(cfg(options="{sep: ';'}"))
    assert main(["run", "--config", str(project.root / "audit.yaml"), "--out", str(project.root / "out")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "set source.options.sep to '|'" in err


def test_unknown_model_key_lists_model_keys(project):
    project.write("crm.csv", customers(5).to_csv(index=False))
    project.config(cfg() + "models:\n  - {name: m, dataset: crm, algoritm: svc}\n")
    msg = project.error()
    assert "models[0].algoritm: unknown key 'algoritm'" in msg
    assert "allowed keys: adverse_outcome, algorithm," in msg


def test_sql_query_with_duplicate_names_and_tokens(project):
    import sqlite3

    db = project.root / "crm.db"
    with sqlite3.connect(db) as conn:
        customers(20).to_sql("customers", conn, index=False)
        conn.execute("UPDATE customers SET gender = ' ? ' WHERE rowid <= 3")
    project.config("datasets:\n  crm:\n    source: {path: crm.db, query: 'SELECT customer_id, gender, gender, churn FROM customers'}\n")
    assert "dataset 'crm' has duplicate column name(s): 'gender'" in project.error()
    project.config("datasets:\n  crm:\n    source: {path: crm.db, table: customers}\n    roles: {id: customer_id, protected: [gender]}\n")
    ds = project.load().datasets["crm"]
    assert int(ds.frame["gender"].isna().sum()) == 3 and ds.reading["format"] == "sql"
