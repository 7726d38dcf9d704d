"""The ingest stage: the sample's shape, every format, and every kind of bad input."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from storyweave.ingest import files, jsonl, read_paths, read_stream
from storyweave.records import IngestError, RawDoc

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ARABIC = "وافق الرئيس الروسي فلاديمير بوتين على التوجه إلى كوريا الشمالية بدعوة من زعيمها كيم جونغ أون."
FRENCH = "Le président russe a accueilli le dirigeant nord-coréen à l'été. « C'est très intéressant », a-t-il déclaré."
BODY = "Kim Jong Un arrived in Russia on Tuesday. He met Vladimir Putin at the Vostochny cosmodrome."


def docs(items: list[RawDoc | IngestError]) -> list[RawDoc]:
    return [item for item in items if isinstance(item, RawDoc)]


def errors(items: list[RawDoc | IngestError]) -> list[IngestError]:
    return [item for item in items if isinstance(item, IngestError)]


def only_doc(items: list[RawDoc | IngestError]) -> RawDoc:
    assert len(items) == 1 and isinstance(items[0], RawDoc), items
    return items[0]


def only_error(items: list[RawDoc | IngestError]) -> IngestError:
    assert len(items) == 1 and isinstance(items[0], IngestError), items
    return items[0]


# --- the sample --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> dict[str, RawDoc]:
    items = list(read_paths([EXAMPLES]))
    assert not errors(items)
    return {Path(doc.origin).name[:3]: doc for doc in docs(items)}


def test_sample_is_read_in_sorted_order() -> None:
    origins = [item.origin for item in read_paths([EXAMPLES])]
    assert origins == sorted(str(path) for path in EXAMPLES.glob("*.txt"))


@pytest.mark.parametrize("key", ["000", "001"])
def test_date_header_goes_to_published_and_its_line_to_the_body(sample: dict[str, RawDoc], key: str) -> None:
    doc = sample[key]
    raw = (EXAMPLES / Path(doc.origin).name).read_text(encoding="utf-8")
    assert raw.startswith(" date 2023-09 ")
    assert doc.published == "2023-09"
    assert doc.extra["published_origin"] == "header"
    assert doc.title == ""  # the header's line is body text, not a headline
    assert doc.text == raw.removeprefix(" date 2023-09 ").strip()


@pytest.mark.parametrize("key", ["003", "004"])
def test_headline_line_becomes_the_title(sample: dict[str, RawDoc], key: str) -> None:
    doc = sample[key]
    first_line, _, rest = (EXAMPLES / Path(doc.origin).name).read_text(encoding="utf-8").partition("\n")
    assert doc.title == first_line.strip()
    assert doc.text == rest.strip()
    assert doc.published == "" and "published_origin" not in doc.extra


def test_dateline_paragraph_after_an_empty_line_is_not_a_headline(sample: dict[str, RawDoc]) -> None:
    doc = sample["002"]
    assert doc.title == ""
    assert doc.text.startswith("(سيئول) – وافق الرئيس الروسي")


def test_header_on_its_own_line_then_headline(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(f" date 2023-09-13\nKim and Putin meet at the cosmodrome\n{BODY}\n", encoding="utf-8")
    doc = only_doc(list(read_paths([path])))
    assert (doc.published, doc.title, doc.text) == ("2023-09-13", "Kim and Putin meet at the cosmodrome", BODY)


@pytest.mark.parametrize(
    "text",
    [
        f"Kim Jong Un arrived in Russia on Tuesday.\n{BODY}",  # a sentence
        # a hard-wrapped paragraph
        "Kim Jong Un arrived in Russia on Tuesday for talks with\nthe Russian president, and left on Sunday.",
        f"WASHINGTON —\n{BODY}",  # a dateline
        f"Kim said:\n{BODY}",  # a clause introducing the next line
        "Kim Jong Un arrives in Russia",  # nothing after it: it is the article
    ],
)
def test_body_first_lines_are_not_taken_as_headlines(tmp_path: Path, text: str) -> None:
    path = tmp_path / "a.txt"
    path.write_text(text, encoding="utf-8")
    doc = only_doc(list(read_paths([path])))
    assert doc.title == ""
    assert doc.text == text.strip()


# --- folders -----------------------------------------------------------------------------------


def test_folders_are_walked_recursively_sorted_and_hidden_entries_skipped(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "z").mkdir(parents=True)
    (tmp_path / ".git").mkdir()
    for name in ["b/2.txt", "a/z/1.txt", "a/0.txt", "c.txt", ".hidden.txt", ".git/x.txt"]:
        (tmp_path / name).write_text(f"{BODY} ({name})", encoding="utf-8")
    origins = [item.origin for item in read_paths([tmp_path])]
    expected = ["a/0.txt", "a/z/1.txt", "b/2.txt", "c.txt"]
    assert origins == [str(tmp_path / name) for name in expected]
    assert origins == [item.origin for item in read_paths([str(tmp_path)])]  # deterministic, str paths too


def test_an_explicitly_named_hidden_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / ".draft.txt"
    path.write_text(BODY, encoding="utf-8")
    assert only_doc(list(read_paths([path]))).text == BODY


def test_a_folder_of_thousands_of_files_is_streamed_lazily(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for index in range(2000):
        (tmp_path / f"{index:05d}.txt").write_bytes(b"Kim met Putin in Vostochny.")
    opened: list[Path] = []
    real_read_file = files.read_file

    def counting(path: Path) -> bytes | IngestError:
        opened.append(path)
        return real_read_file(path)

    monkeypatch.setattr("storyweave.ingest.read_file", counting)
    stream = read_paths([tmp_path])
    first = next(stream)
    assert isinstance(first, RawDoc) and first.origin.endswith("00000.txt")
    assert len(opened) == 1  # nothing read ahead of what the pipeline asked for
    assert sum(1 for _ in stream) == 1999


def test_missing_path_is_an_error_and_the_rest_is_read(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text(BODY, encoding="utf-8")
    items = list(read_paths([tmp_path / "missing.txt", good]))
    assert "no such file" in only_error(items[:1]).message
    assert only_doc(items[1:]).text == BODY


def test_symlink_loops_are_reported_not_followed(tmp_path: Path) -> None:
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "a.txt").write_text(BODY, encoding="utf-8")
    (tmp_path / "news" / "back").symlink_to(tmp_path)  # a link to a folder being walked
    (tmp_path / "self").symlink_to(tmp_path / "self")  # a link to itself
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere.txt")
    items = list(read_paths([tmp_path]))
    assert [doc.origin for doc in docs(items)] == [str(tmp_path / "news" / "a.txt")]
    by_origin = {error.origin: error.message for error in errors(items)}
    assert "loop" in by_origin[str(tmp_path / "news" / "back")]
    assert "symbolic links" in by_origin[str(tmp_path / "self")]
    assert "no such file" in by_origin[str(tmp_path / "dangling")]


def test_a_folder_reached_twice_through_links_is_read_once(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.txt").write_text(BODY, encoding="utf-8")
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    items = list(read_paths([tmp_path]))
    assert len(docs(items)) == 1 and not errors(items)


def test_unreadable_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "locked.txt"
    locked.write_text(BODY, encoding="utf-8")
    (tmp_path / "open.txt").write_text(BODY, encoding="utf-8")
    if os.geteuid() == 0:  # root reads anything: make the file system refuse as it would a user
        real_open = Path.open

        def refusing_open(self: Path, *args: object, **kwargs: object) -> object:
            if self == locked:
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

        monkeypatch.setattr(Path, "open", refusing_open)
    else:
        locked.chmod(0)
    items = list(read_paths([tmp_path]))
    assert only_error(items[:1]) == IngestError(str(locked), "cannot read: Permission denied")
    assert only_doc(items[1:]).origin == str(tmp_path / "open.txt")


def test_unlistable_folder_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    real_scandir = os.scandir

    def refusing_scandir(path: object) -> object:
        if Path(str(path)) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "scandir", refusing_scandir)
    assert only_error(list(read_paths([tmp_path]))).message == "cannot list folder: Permission denied"


# --- bad content -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary"),
        (b"", "empty"),
        (b" \n\t\r\n   \n", "empty"),
        (bytes(range(1, 32)) * 50, "binary"),  # control bytes, no NUL
    ],
)
def test_not_an_article(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "item.txt"
    path.write_bytes(content)
    error = only_error(list(read_paths([path])))
    assert error.origin == str(path) and message in error.message


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (ARABIC, "cp1256"),
        ("لقاء كيم وبوتين", "cp1256"),  # short: charset-normalizer alone reads it as Shift-JIS
        (FRENCH, "cp1252"),
        (FRENCH, "utf-16"),
        (ARABIC, "utf-8-sig"),
        ("Ким Чен Ын прибыл в Россию на встречу с Путиным.", "cp1251"),
        ("Przywódca Korei Północnej przybył do Rosji, gdzie spotkał się z prezydentem Putinem.", "cp1250"),
        ("Kuzey Kore lideri Kim, Putin ile görüşmek için Rusya'ya geldi. Görüşme uzun sürdü.", "cp1254"),
        ("קים ג'ונג און הגיע לרוסיה כדי להיפגש עם פוטין.", "cp1255"),
        ("Ο Κιμ Γιονγκ Ουν έφτασε στη Ρωσία για να συναντήσει τον Πούτιν.", "cp1253"),
        ("金正恩抵达俄罗斯与普京会面。两国领导人举行了会谈。", "gb18030"),
        ("キム・ジョンウン氏がロシアに到着した。プーチン大統領と会談する予定だ。", "cp932"),
    ],
)
def test_legacy_encodings_are_decoded(tmp_path: Path, text: str, encoding: str) -> None:
    path = tmp_path / "item.txt"
    path.write_bytes(text.encode(encoding))
    assert only_doc(list(read_paths([path]))).text == text


def test_utf8_with_a_stray_byte_stays_utf8(tmp_path: Path) -> None:
    path = tmp_path / "item.txt"
    path.write_bytes(ARABIC.encode() + b" \xff " + FRENCH.encode())
    text = only_doc(list(read_paths([path]))).text
    assert text.startswith(ARABIC) and text.endswith(FRENCH)


def test_a_file_over_the_size_cap_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as fh:
        fh.truncate(100 * 1024 * 1024)  # sparse: 100 MB that take no disk
    error = only_error(list(read_paths([path])))
    assert "100 MB" in error.message and f"{files.MAX_FILE_BYTES // 2**20} MB limit" in error.message


def test_json_lines_have_no_file_cap_but_a_record_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonl, "MAX_RECORD_BYTES", 1000)
    monkeypatch.setattr(jsonl, "_SKIP_CHUNK", 64)
    path = tmp_path / "feed.jsonl"
    lines = [{"text": "first article " * 5}, {"text": "x" * 5000}, {"text": "third article " * 5}]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    items = list(read_paths([path]))
    assert [item.origin for item in items] == [f"{path}:1", f"{path}:2", f"{path}:3"]
    assert isinstance(items[1], IngestError) and "limit" in items[1].message
    assert [doc.text for doc in docs(items)] == [lines[0]["text"].strip(), lines[2]["text"].strip()]


# --- JSON --------------------------------------------------------------------------------------


def test_json_lines_with_a_malformed_line_and_a_record_without_text(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text(
        json.dumps({"title": "One", "body": BODY, "link": "https://www.example.com/a", "lang": "en"})
        + '\n{"text": "unterminated\n\n'
        + json.dumps({"title": "no text here", "text": "  "})
        + "\n"
        + json.dumps(  # a "text" of another shape is passed over for "content"
            {"text": {"en": "?"}, "content": BODY, "outlet": "Example News", "published_at": "2023-09-13T10:00:00Z"}
        )
        + "\n[1, 2]\n",
        encoding="utf-8",
    )
    items = list(read_paths([path]))
    suffixes = [":1", ":2", ":4", ":5", ":6[0]", ":6[1]"]
    assert [item.origin for item in items] == [f"{path}{suffix}" for suffix in suffixes]
    first, second = docs(items)
    assert (first.title, first.text, first.url, first.source, first.language) == (
        "One", BODY, "https://www.example.com/a", "example.com", "en"
    )
    assert (second.source, second.published) == ("Example News", "2023-09-13T10:00:00Z")
    messages = [error.message for error in errors(items)]
    assert messages[0].startswith("invalid JSON") and messages[1].startswith("no article text")
    assert all("not a JSON object" in message for message in messages[2:])


@pytest.mark.parametrize("content", [b"", b"\n  \n\n"])
def test_json_lines_file_without_records(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "feed.ndjson"
    path.write_bytes(content)
    assert only_error(list(read_paths([path]))).message == "empty: no records"


def test_json_file_with_one_object_or_an_array(tmp_path: Path) -> None:
    single = tmp_path / "one.json"
    single.write_text(json.dumps({"text": BODY, "title": "T"}), encoding="utf-8")
    assert only_doc(list(read_paths([single]))).origin == str(single)
    array = tmp_path / "many.json"
    array.write_text(json.dumps([{"text": BODY}, {"title": "empty"}, {"body": FRENCH}]), encoding="utf-8")
    items = list(read_paths([array]))
    assert [item.origin for item in items] == [f"{array}[0]", f"{array}[1]", f"{array}[2]"]
    assert [type(item) for item in items] == [RawDoc, IngestError, RawDoc]


def test_json_lines_saved_as_json_and_broken_json(tmp_path: Path) -> None:
    lines = tmp_path / "lines.json"
    lines.write_text(json.dumps({"text": BODY}) + "\n" + json.dumps({"text": FRENCH}) + "\n", encoding="utf-8")
    assert [item.origin for item in read_paths([lines])] == [f"{lines}:1", f"{lines}:2"]
    broken = tmp_path / "broken.json"
    broken.write_text('{"text": "never closed', encoding="utf-8")
    assert only_error(list(read_paths([broken]))).message.startswith("invalid JSON")


def test_json_record_fields_from_news_apis(tmp_path: Path) -> None:
    path = tmp_path / "api.json"
    record = {
        "status": "ok",
        "articles": [
            {
                "source": {"id": "voa", "name": "VOA"},
                "headline": "Kim &amp; Putin meet",
                "url": "https://www.voanews.com/a/kim-putin/7265.html",
                "publishedAt": 1694563200,
                "articleBody": "<p>Kim Jong Un met <b>Vladimir Putin</b> at Vostochny on Wednesday.</p>"
                "<p>The two leaders discussed military cooperation, the Kremlin said.</p>",
                "Language": "en-US",
            }
        ],
    }
    path.write_text(json.dumps(record), encoding="utf-8")
    doc = only_doc(list(read_paths([path])))
    assert doc.origin == f"{path}.articles[0]"
    assert doc.title == "Kim & Putin meet"
    assert doc.text == (
        "Kim Jong Un met Vladimir Putin at Vostochny on Wednesday.\n"
        "The two leaders discussed military cooperation, the Kremlin said."
    )
    assert (doc.source, doc.published, doc.language) == ("VOA", "2023-09-13T00:00:00+00:00", "en-US")


# --- HTML --------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html lang="ar-EG"><head><meta charset="{charset}"><title>لقاء كيم وبوتين | أخبار</title>
<link rel="canonical" href="https://news.example.com/world/2023/09/15/kim-putin">
<meta property="og:url" content="https://news.example.com/world/2023/09/15/kim-putin?utm=feed">
<meta property="og:site_name" content="أخبار المثال">
<meta property="article:published_time" content="2023-09-15T10:30:00+03:00">
</head><body><nav><a href="/">الرئيسية</a> | <a href="/world">العالم</a></nav>
<article><h1>لقاء كيم وبوتين يقلق 3 دول</h1>
<p>وأضافت الوزارة في بيان أن الوزراء الثلاثة اتفقوا خلال اجتماع قصير يوم الجمعة على الرد بحزم على أي أعمال تهدد الأمن الإقليمي.</p>
<p>وعبّر المسؤولون الأميركيون والكوريون الجنوبيون عن قلقهم من أن تكون القمة قد استهدفت السماح لروسيا بالحصول على ذخيرة.</p>
</article><footer>جميع الحقوق محفوظة</footer></body></html>"""


@pytest.mark.parametrize("charset", ["utf-8", "windows-1256"])
def test_html_page(tmp_path: Path, charset: str) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(PAGE.format(charset=charset).encode(charset))
    doc = only_doc(list(read_paths([path])))
    assert doc.title == "لقاء كيم وبوتين يقلق 3 دول"
    assert doc.text.startswith("وأضافت الوزارة") and doc.text.endswith("بالحصول على ذخيرة.")
    assert "الرئيسية" not in doc.text and "الحقوق" not in doc.text  # navigation and footer left out
    assert doc.url == "https://news.example.com/world/2023/09/15/kim-putin"  # canonical over og:url
    assert (doc.source, doc.published, doc.language) == ("أخبار المثال", "2023-09-15", "ar-EG")


def test_html_page_without_text_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.htm"
    path.write_text("<html><head><script>var x = 1;</script></head><body><div> </div></body></html>", encoding="utf-8")
    assert "no article text" in only_error(list(read_paths([path]))).message


def test_unknown_suffix_is_sniffed(tmp_path: Path) -> None:
    (tmp_path / "a.php").write_text(PAGE.format(charset="utf-8"), encoding="utf-8")
    (tmp_path / "b.dat").write_text(json.dumps({"text": BODY}), encoding="utf-8")
    (tmp_path / "c").write_text(BODY, encoding="utf-8")
    a, b, c = docs(list(read_paths([tmp_path])))
    assert a.language == "ar-EG" and b.text == BODY and c.text == BODY


# --- streams -----------------------------------------------------------------------------------


def test_stream_of_plain_text() -> None:
    doc = only_doc(list(read_stream(io.BytesIO(f" date 2023-09 {BODY}".encode()))))
    assert (doc.origin, doc.published, doc.text) == ("<stdin>", "2023-09", BODY)


def test_stream_of_json_lines_is_read_line_by_line() -> None:
    long_first = json.dumps({"text": FRENCH * 200})  # longer than the sniffed head
    stream = io.BytesIO("\n".join([long_first, "{oops", json.dumps({"text": BODY})]).encode())
    items = list(read_stream(stream, name="feed"))
    assert [item.origin for item in items] == ["feed:1", "feed:2", "feed:3"]
    assert [type(item) for item in items] == [RawDoc, IngestError, RawDoc]
    assert docs(items)[0].text == FRENCH * 200


@pytest.mark.parametrize(
    "payload",
    [json.dumps({"text": BODY}, indent=2), json.dumps([{"text": BODY}], indent=2)],
)
def test_stream_of_one_json_document(payload: str) -> None:
    doc = only_doc(list(read_stream(io.BytesIO(payload.encode()))))
    assert doc.text == BODY and doc.origin.startswith("<stdin>")


def test_stream_of_html() -> None:
    doc = only_doc(list(read_stream(io.BytesIO(PAGE.format(charset="utf-8").encode()))))
    assert doc.url.endswith("/kim-putin") and doc.origin == "<stdin>"


@pytest.mark.parametrize(
    ("content", "message"), [(b"", "empty"), (b"  \n", "empty"), (b"\x00\x01\x02" * 100, "binary")]
)
def test_bad_streams(content: bytes, message: str) -> None:
    assert message in only_error(list(read_stream(io.BytesIO(content)))).message
