"""Benchmark loaders: tiny files of each release's real shape, plus cheap checks on the real data."""

from __future__ import annotations

import datetime as dt
import json
import os
import warnings
from pathlib import Path

import pytest

from storyweave.eval import (
    BenchmarkDataWarning,
    detokenize,
    fix_mojibake,
    load_ecbplus,
    load_miranda,
    load_mlcrisis,
    load_mlcrisis_references,
    load_pairs,
)

BENCH = Path(os.environ.get("STORYWEAVE_BENCH") or Path(__file__).parents[1].parent / "shared" / "bench")


def bench(name: str) -> Path:
    path = BENCH / name
    if not path.exists():
        pytest.skip(f"benchmark data not found at {path} (set STORYWEAVE_BENCH to the bench folder)")
    return path


# --- ECB+ -------------------------------------------------------------------------------------


def ecb_xml(name: str, sentences: list[list[str]]) -> str:
    tokens = []
    t_id = 1
    for s, words in enumerate(sentences):
        for n, word in enumerate(words):
            word = word.replace("&", "&amp;").replace("<", "&lt;")
            tokens.append(f'<token t_id="{t_id}" sentence="{s}" number="{n}">{word}</token>')
            t_id += 1
    markables = '<Markables>\n<ACTION_OCCURRENCE m_id="1" note="x" >\n  <token_anchor t_id="2"/>\n</ACTION_OCCURRENCE>\n</Markables>'
    return f'<Document doc_name="{name}" doc_id="DOC1">\n' + "\n".join(tokens) + f"\n{markables}\n<Relations>\n</Relations>\n</Document>"


URL_TOKENS = "http : / / www . example . com / 2013 / 06 / 13 / lohan - leaves - rehab _ article _ 80744".split()


@pytest.fixture()
def ecb_root(tmp_path: Path) -> Path:
    root = tmp_path / "ECB+"
    files = {
        "1/1_1ecb.xml": [
            "Tara Reid , 33 , has checked into rehab .".split(),
            "Her rep said : `` We ask for privacy . ''".split(),
        ],
        "1/1_1ecbplus.xml": [
            URL_TOKENS,
            "Lindsay Lohan Leaves Betty Ford , Checks Into Malibu Rehab".split(),
            "The 26 - year - old actress left at 4 : 00 pm , her lawyer said .".split(),
        ],
        "1/1_10ecb.xml": ["Reid 's publicist did n't comment on the $ 1 million deal .".split()],
        "1/1_2ecb.xml": ['She said " it is over " and left ( quietly ) .'.split()],
        "10/10_1ecb.xml": ["A ship was hijacked .".split()],
        "2/2_1ecbplus.xml": ["http : / / news . example . org / quake".split(), "Quake Hits Iran".split()],
        "2/notes.xml": [["ignored"]],
    }
    for rel, sentences in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(ecb_xml(Path(rel).name, sentences), encoding="utf-8")
    return root


def test_ecbplus_order_gold_and_groups(ecb_root: Path) -> None:
    docs = load_ecbplus(ecb_root.parent)  # the folder holding ECB+ works too
    names = [Path(d.doc.origin).name for d in docs]
    assert names == ["1_1ecb.xml", "1_1ecbplus.xml", "1_2ecb.xml", "1_10ecb.xml", "2_1ecbplus.xml", "10_1ecb.xml"]
    assert [d.gold for d in docs] == ["1", "1plus", "1", "1", "2plus", "10"]
    assert [d.group for d in docs] == ["1", "1", "1", "1", "2", "10"]
    assert all(d.doc.origin == str(ecb_root / d.group / Path(d.doc.origin).name) for d in docs)


def test_ecbplus_url_goes_to_url_never_to_text(ecb_root: Path) -> None:
    docs = {Path(d.doc.origin).name: d.doc for d in load_ecbplus(ecb_root)}
    plus = docs["1_1ecbplus.xml"]
    assert plus.url == "http://www.example.com/2013/06/13/lohan-leaves-rehab_article_80744"
    assert plus.title == "Lindsay Lohan Leaves Betty Ford, Checks Into Malibu Rehab"
    assert plus.text == "The 26-year-old actress left at 4:00 pm, her lawyer said."
    assert plus.language == "en"
    assert all("http" not in d.text and "example" not in d.text for d in docs.values())
    # A first sentence that ends like a sentence is the lead, not a title.
    ecb = docs["1_1ecb.xml"]
    assert (ecb.url, ecb.title) == ("", "")
    assert ecb.text == 'Tara Reid, 33, has checked into rehab.\nHer rep said: "We ask for privacy."'
    assert docs["2_1ecbplus.xml"].title == "Quake Hits Iran"
    assert docs["2_1ecbplus.xml"].text == ""


def test_detokenize_spacing() -> None:
    assert detokenize("Reid 's publicist did n't comment on the $ 1 million deal .".split()) == (
        "Reid's publicist didn't comment on the $1 million deal."
    )
    assert detokenize('She said " it is over " and left ( quietly ) .'.split()) == (
        'She said "it is over" and left (quietly).'
    )
    assert detokenize("a 36 - year - old and / or".split()) == "a 36-year-old and/or"
    # Where the tokeniser kept hyphenated words whole, a lone hyphen is a spaced dash.
    assert detokenize("five young men - sons of a dentist".split(), split_words=False) == (
        "five young men - sons of a dentist"
    )
    assert detokenize("Posted on : 3 : 35 pm".split()) == "Posted on: 3:35 pm"


def test_ecbplus_refuses_a_doctype(tmp_path: Path) -> None:
    file = tmp_path / "ECB+" / "1" / "1_1ecb.xml"
    file.parent.mkdir(parents=True)
    file.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
        '<Document><token t_id="1" sentence="0" number="0">&e;</token></Document>',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="DOCTYPE"):
        load_ecbplus(tmp_path)


def test_ecbplus_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_ecbplus(tmp_path / "nowhere")


def test_ecbplus_real_data() -> None:
    docs = load_ecbplus(bench("ecbplus"))
    assert len(docs) == 772
    assert len({d.gold for d in docs}) == 66
    assert len({d.group for d in docs}) == 33
    for d in docs:
        is_plus = d.gold.endswith("plus")
        assert bool(d.doc.url) == is_plus, d.doc.origin
        assert not d.doc.text.startswith("http"), d.doc.origin
        assert not (d.doc.url and d.doc.url in "".join(d.doc.text.split())), d.doc.origin
        assert d.doc.text or d.doc.title, d.doc.origin
    assert [int(d.group) for d in docs] == sorted(int(d.group) for d in docs)


# --- SemEval-2022 Task 8 ----------------------------------------------------------------------

HEADER = "Unnamed: 0,pair_id,lang1,lang2,text1,text2,Geography,Entities,Time,Narrative,Overall,Style,Tone\n"


def test_pairs_rows_translation_flag_and_skips(tmp_path: Path) -> None:
    rows = [
        '0,1484_1485,en,en,"Quake hits Iran\nTen people died.","Iran quake, ten dead",1.0,1.0,1.0,1.0,1.0,1.0,1.0\n',
        '1,1484008155es_1483984703,es,en,"Terremoto en Irán","Iran quake",1.0,1.0,1.0,1.0,1.5,1.0,1.0\n',
        '2,1586_1587,de,de,"Bayern will neues Konzept fÃ¼r Versammlungen","In MÃ1⁄4nchen",4.0,4.0,4.0,4.0,3.6666666666666665,4.0,4.0\n',
        "3,1601_1602,tr,tr,Horoz,Horoz,1.0,1.0,1.0,1.0,,1.0,1.0\n",
        "4,1603_1604,tr,tr,,Horoz,1.0,1.0,1.0,1.0,2.0,1.0,1.0\n",
    ]
    file = tmp_path / "training_set.csv"
    # The last row's text is bytes that are not UTF-8 at all.
    broken = b'5,1605_1606,tr,tr,"' + b"\xff\xfe\xfd\xfc" * 30 + b'",ok,1.0,1.0,1.0,1.0,1.0,1.0,1.0\n'
    file.write_bytes((HEADER + "".join(rows)).encode("utf-8") + broken)
    with pytest.warns(BenchmarkDataWarning, match=r"skipped 3 of 6 rows \(1 empty text, language or id, 1 no Overall score, 1 unreadable encoding\)"):
        pairs = load_pairs(file)
    assert [p.pair_id for p in pairs] == ["1484_1485", "1484008155es_1483984703", "1586_1587"]
    assert [p.translated for p in pairs] == [False, True, False]
    assert [p.overall for p in pairs] == [1.0, 1.5, pytest.approx(3.6667, abs=1e-4)]
    assert pairs[0].text1 == "Quake hits Iran\nTen people died."
    assert (pairs[1].lang1, pairs[1].lang2) == ("es", "en")
    assert pairs[2].text1 == "Bayern will neues Konzept für Versammlungen"
    assert pairs[2].text2 == "In München"


def test_pairs_wrong_file(tmp_path: Path) -> None:
    file = tmp_path / "x.csv"
    file.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="Overall"):
        load_pairs(file)


@pytest.mark.parametrize(
    ("damaged", "repaired"),
    [
        ("fÃ¼r", "für"),
        ("hÃ¤tte KÃ¶rperkontakt", "hätte Körperkontakt"),
        ("Horoz dÃ¶vÃ¼Å\x9fÃ¼", "Horoz dövüşü"),  # Latin-1 reading: 0x9F is a C1 control
        ("EBA Ã¶ÄŸrenci giriÅŸ", "EBA öğrenci giriş"),  # cp1252 reading: 0x9F is "Ÿ"
        ("İTÇ Şifresi nasıl alÄ±nÄ±r?", "İTÇ Şifresi nasıl alınır?"),  # good and damaged mixed
        ("der TÃ1⁄4rkei", "der Türkei"),  # damaged, then NFKC-normalised
        ("â€œQuoteâ€\x9d", "“Quote”"),
    ],
)
def test_fix_mojibake_repairs(damaged: str, repaired: str) -> None:
    assert fix_mojibake(damaged) == repaired


@pytest.mark.parametrize(
    "text",
    ["Ärzte in Äthiopien", "São Paulo à façade", "Nº 5, ½ Liter, 1⁄4 Meile", "Zürich ±3 °C", "Ça va «bien»", "日本語"],
)
def test_fix_mojibake_leaves_good_text(text: str) -> None:
    assert fix_mojibake(text) == text


def test_pairs_real_data() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", BenchmarkDataWarning)  # every row of the release loads
        pairs = load_pairs(bench("semeval2022_task8") / "training_set.csv")
    assert len(pairs) == 1283
    assert sum(p.translated for p in pairs) == 487
    assert all(1.0 <= p.overall <= 4.0 for p in pairs)
    assert not any("Ã¼" in p.text1 + p.text2 or "Ä±" in p.text1 + p.text2 for p in pairs)


# --- Miranda et al. 2018 (Priberam's release) -------------------------------------------------


def test_miranda_stream_order_languages_and_gold(tmp_path: Path) -> None:
    items = [
        {"id": "b2", "date": "2014-11-02 09:00:00", "lang": "spa", "title": "Terremoto", "text": "Un sismo...", "cluster": "7"},
        {"id": "a1", "date": "2014-11-01 10:30:00", "lang": "eng", "title": "Quake", "text": "A quake...", "cluster": "3", "source": "bbc.co.uk"},
        {"id": "c3", "date": "2014-11-01 10:30:00", "lang": "eng", "title": "", "text": "Another quake", "cluster": 3},
    ]
    file = tmp_path / "dataset.test.json"
    file.write_text(json.dumps(items), encoding="utf-8")
    docs = load_miranda(file)
    assert [d.doc.origin for d in docs] == [f"{file}#a1", f"{file}#c3", f"{file}#b2"]
    assert [d.gold for d in docs] == ["3", "3", "7"]
    assert [d.group for d in docs] == ["en", "en", "es"]
    first = docs[0].doc
    assert (first.title, first.text, first.published, first.language, first.source) == (
        "Quake", "A quake...", "2014-11-01 10:30:00", "en", "bbc.co.uk"
    )
    assert [d.doc.origin for d in load_miranda(file, languages={"spa"})] == [f"{file}#b2"]
    assert [d.gold for d in load_miranda(file, languages=["en"])] == ["3", "3"]


def test_miranda_rejects_other_shapes(tmp_path: Path) -> None:
    file = tmp_path / "dataset.test.json"
    file.write_text(json.dumps([{"id": "x", "lang": "eng", "text": "t"}]), encoding="utf-8")
    with pytest.raises(ValueError, match="date, cluster"):
        load_miranda(file)
    file.write_text(json.dumps({"id": "x"}), encoding="utf-8")
    with pytest.raises(ValueError, match="JSON list"):
        load_miranda(file)


# --- ML-Crisis --------------------------------------------------------------------------------


@pytest.fixture()
def mlcrisis_root(tmp_path: Path) -> Path:
    root = tmp_path / "ml_crisis"
    for rel, text in {
        "es/egypt/2011-01-26/gv_30.txt": "Protestas en El Cairo.\n",
        "es/egypt/2011-01-26/gv_4.txt": "Miles en la plaza Tahrir.",
        "es/egypt/2011-01-25/ext_108.txt": "Régimen egipcio lanza advertencia",
        "es/libya/2011-02-17/gv_1.txt": "Bengasi se levanta.",
        "fr/libya/2011-02-15/gv_2.txt": "Manifestations à Benghazi.",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    (root / "es" / "reference").mkdir()
    (root / "es" / "reference" / "egypt.txt").write_text(
        "2011-02-11\nMubarak dimite .\n--------------------------------\n"
        "2011-01-25\nPrimer día de protestas .\nMiles en Tahrir .\n--------------------------------\n"
        "2011-02-11\nEl ejército toma el poder .\n--------------------------------\n",
        encoding="utf-8",
    )
    (root / "en" / "reference").mkdir(parents=True)
    (root / "en" / "reference" / "libya.txt").write_text(
        "2011-02-15\nProtests in Benghazi in the\n- Beida region .\n--------------------------------\n", encoding="utf-8"
    )
    return root


def test_mlcrisis_documents(mlcrisis_root: Path) -> None:
    docs = load_mlcrisis(mlcrisis_root)
    assert [Path(d.doc.origin).relative_to(mlcrisis_root).as_posix() for d in docs] == [
        "es/egypt/2011-01-25/ext_108.txt",
        "es/egypt/2011-01-26/gv_4.txt",
        "es/egypt/2011-01-26/gv_30.txt",
        "es/libya/2011-02-17/gv_1.txt",
        "fr/libya/2011-02-15/gv_2.txt",
    ]
    assert [d.gold for d in docs] == ["egypt", "egypt", "egypt", "libya", "libya"]
    assert [d.group for d in docs] == ["es/egypt", "es/egypt", "es/egypt", "es/libya", "fr/libya"]
    first = docs[1].doc
    assert (first.published, first.language, first.text) == ("2011-01-26", "es", "Miles en la plaza Tahrir.")
    assert first.extra == {"published_origin": "folder"}
    assert [d.group for d in load_mlcrisis(mlcrisis_root, language="es", topic="libya")] == ["es/libya"]
    assert [d.group for d in load_mlcrisis(mlcrisis_root, topic="libya")] == ["es/libya", "fr/libya"]


def test_mlcrisis_bad_date_folder(mlcrisis_root: Path) -> None:
    (mlcrisis_root / "es" / "egypt" / "latest").mkdir()
    with pytest.raises(ValueError, match="latest"):
        load_mlcrisis(mlcrisis_root)


def test_mlcrisis_references(mlcrisis_root: Path) -> None:
    refs = load_mlcrisis_references(mlcrisis_root)
    assert set(refs) == {("es", "egypt"), ("en", "libya")}
    assert refs[("es", "egypt")] == [
        (dt.date(2011, 1, 25), ["Primer día de protestas .", "Miles en Tahrir ."]),
        (dt.date(2011, 2, 11), ["Mubarak dimite .", "El ejército toma el poder ."]),
    ]
    # A summary line that starts with a dash is a sentence, not a separator.
    assert refs[("en", "libya")] == [(dt.date(2011, 2, 15), ["Protests in Benghazi in the", "- Beida region ."])]


def test_mlcrisis_real_data() -> None:
    root = bench("ml_crisis")
    docs = load_mlcrisis(root)
    assert len(docs) == 740
    assert {d.group for d in docs} == {f"{lang}/{topic}" for lang in ("es", "fr", "it") for topic in ("egypt", "libya")}
    assert all(d.doc.text and dt.date.fromisoformat(d.doc.published) for d in docs)
    refs = load_mlcrisis_references(root)
    assert set(refs) == {(lang, topic) for lang in ("en", "es", "fr", "it") for topic in ("egypt", "libya")}
    for timeline in refs.values():
        dates = [date for date, _ in timeline]
        assert dates == sorted(set(dates))
        assert all(sentences for _, sentences in timeline)
