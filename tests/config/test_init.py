"""`crm-audit init --data`: proposals with reasons, on generated English and Chinese exports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import yaml

from audit.cli import main


def _export(n: int = 120, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(n)],
            "Age": rng.integers(18, 90, n),
            "Sex": rng.choice(["F", "M"], n),
            "Marital_Status": rng.choice(["single", "married"], n),
            "Religion": rng.choice(["a", "b", "c"], n),
            "zip": rng.choice(["10115", "20095"], n),
            "signup": pd.date_range("2023-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "comment": [f"the {w} service was {v}, please call me back about order {i}" for i, (w, v) in enumerate(zip(rng.choice(["mobile", "broadband", "tv"], n), rng.choice(["slow", "fine", "great"], n), strict=True))],
            "rating": [str(x) for x in rng.integers(1, 6, n)],  # short numbers as text: not free text
            "credit_risk": rng.choice([1, 2], n, p=[0.7, 0.3]),
        }
    )


def test_semicolon_latin1_export_proposals(tmp_path, capsys):
    df = _export()
    df["Religion"] = rng_words = np.resize(["católica", "ninguna", "musulmán"], len(df))
    assert len(rng_words) == len(df)
    data = tmp_path / "export.csv"
    data.write_bytes(df.to_csv(sep=";", index=False).encode("latin-1"))
    out = tmp_path / "audit.yaml"
    assert main(["init", "--data", str(data), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    cfg = yaml.safe_load(text)
    ds = cfg["datasets"]["export"]
    assert ds["source"]["options"] == {"sep": ";", "encoding": "latin-1"}
    assert "# separator ';' sniffed: the header and first lines split into 10 fields on it; encoding latin-1: the file is not valid UTF-8" in text
    roles = ds["roles"]
    assert roles["id"] == "customer_id" and roles["target"] == "credit_risk"
    assert roles["protected"] == ["Age", "Sex", "Marital_Status", "Religion"]
    assert roles["text"] == ["comment"] and roles["timestamps"] == ["signup"]
    assert ds["bands"] == {"Age": [18, 25, 35, 45, 55, 65]}
    assert ds["positive_labels"] == []  # 1/2 coding: the user must say which is positive
    assert "positive_labels: []  # REVIEW: which value is the positive class" in text and "The rarer one is 2 (" in text
    assert '- "Religion"  # name matches \'Religion\' (religion)' in text
    assert '- "comment"  # free text by content: mean' in text
    assert '- "signup"  # 100% of the values parse as dates' in text
    # every role line carries its reason
    role_lines = [ln for ln in text.splitlines() if ln.startswith("        - ") or ln.startswith("      id:") or ln.startswith("      target:")]
    assert len(role_lines) >= 10
    for line in role_lines:
        assert "  # " in line, line
    # the starter refuses to run until the positive class is named, with the fix
    assert main(["run", "--config", str(out), "--out", str(tmp_path / "o")]) == 2
    assert "which value of target 'credit_risk' is the positive class?" in " ".join(capsys.readouterr().err.split())


def test_chinese_export_proposals(tmp_path):
    rng = np.random.default_rng(5)
    n = 80
    df = pd.DataFrame(
        {
            "客户编号": [f"K{i:04d}" for i in range(n)],
            "性别": rng.choice(["男", "女"], n),
            "年龄": rng.integers(18, 80, n),
            "民族": rng.choice(["汉族", "回族", "壮族"], n),
            "城市": rng.choice(["北京", "上海"], n),
            "注册日期": [f"2023年{m}月{d}日" for m, d in zip(rng.integers(1, 13, n), rng.integers(1, 28, n), strict=True)],
            "留言": [f"{t}（工单{i}）" for i, t in enumerate(rng.choice(["我想退订这个套餐，价格太贵了", "客服态度很好，问题很快解决了", "网络经常断线，希望尽快维修", "请帮我查询上个月的账单明细"], n))],
            "是否流失": rng.choice(["是", "否"], n),
        }
    )
    data = tmp_path / "客户.csv"
    data.write_text(df.to_csv(index=False), encoding="utf-8")
    out = tmp_path / "audit.yaml"
    assert main(["init", "--data", str(data), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    cfg = yaml.safe_load(text)
    ds = next(iter(cfg["datasets"].values()))
    assert "options" not in ds["source"]
    roles = ds["roles"]
    assert roles["id"] == "客户编号" and roles["target"] == "是否流失"
    assert roles["protected"] == ["性别", "年龄", "民族"]
    assert roles["text"] == ["留言"] and roles["timestamps"] == ["注册日期"]
    assert "城市" in roles["quasi_identifiers"]
    assert "positive_labels: not needed, the target reads as yes/no" in text
    assert "name matches '民族' (ethnicity)" in text


def test_init_sniffs_the_separator_of_a_tiny_file(tmp_path):
    data = tmp_path / "odd.csv"
    data.write_text("a;b;c\n1;2;3\n4;5;6\n")
    assert main(["init", "--data", str(data), "--out", str(tmp_path / "a.yaml")]) == 0
    assert yaml.safe_load((tmp_path / "a.yaml").read_text())["datasets"]["odd"]["source"]["options"] == {"sep": ";"}
