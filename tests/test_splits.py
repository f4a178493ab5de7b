"""Splits: the assignment search against brute force, honest splits of the real Celeb-DF subset
(checked by brute force over the split's videos), split files, and the leakage check."""

from __future__ import annotations

import itertools
import json
import logging
import random
import re

import pytest

from acglab.data.layouts import load_dataset
from acglab.data.samples import FAKE, REAL, Sample, SampleTable
from acglab.data.split_assignment import BALANCE_PENALTY, CLOSENESS_WEIGHT, build_problem, search_assignment
from acglab.data.splits import (
    PARTS,
    Split,
    check_split,
    load_split,
    make_split,
    official_split,
    require_clean_split,
    save_split,
    split_by_group,
    split_by_identity,
    split_by_target,
    split_by_video,
)
from acglab.errors import DataLayoutError, SplitError, SplitLeakageError

FRACTIONS = {"train": 0.7, "val": 0.1, "test": 0.2}


def identities_from_name(video: str) -> tuple[str, ...]:
    """Celeb-DF identities parsed from the id alone (independent of the loader)."""
    category, name = video.split("/")
    if category == "YouTube-real":
        return (video,)
    return tuple(re.findall(r"id\d+", name))


def labels_by_name(videos) -> dict[str, int]:
    return {v: FAKE if v.startswith("Celeb-synthesis/") else REAL for v in videos}


# --- the assignment search -------------------------------------------------------------------
def brute_force_cost(videos, labels, fractions, tolerance, assignment) -> float:
    """The cost of split_assignment's docstring, written out directly over videos."""
    parts = range(len(fractions))
    kept = {}
    for v, units in videos.items():
        where = {assignment[u] for u in units}
        if len(where) == 1:
            kept[v] = where.pop()
    cost = float(len(videos) - len(kept))
    for lab in set(labels.values()):
        k = sum(1 for v in kept if labels[v] == lab)
        for p in parts:
            c = sum(1 for v, q in kept.items() if q == p and labels[v] == lab)
            dev = abs(c - fractions[p] * k)
            cost += BALANCE_PENALTY * max(0.0, dev - tolerance * k) + CLOSENESS_WEIGHT * dev
    return cost


@pytest.mark.parametrize("instance", range(4))
def test_search_finds_the_brute_force_optimum(instance):
    rng = random.Random(instance)
    n_units = 7
    videos, labels = {}, {}
    for i in range(30):
        units = rng.sample(range(n_units), rng.choice([1, 2, 2]))
        videos[f"v{i}"] = [f"u{u}" for u in units]
        labels[f"v{i}"] = rng.choice([0, 1])
    fractions, tolerance = (0.6, 0.2, 0.2), 0.1
    problem, items, units = build_problem(videos, labels, fractions, tolerance)
    best = min(
        brute_force_cost(videos, labels, fractions, tolerance, dict(zip(units, a)))
        for a in itertools.product(range(3), repeat=len(units))
    )
    found = search_assignment(problem, seed=instance)
    assert brute_force_cost(videos, labels, fractions, tolerance, dict(zip(units, found))) == pytest.approx(best)
    # items merge interchangeable videos without losing any
    assert sorted(v for vs in items for v in vs) == sorted(videos)


def test_search_is_deterministic_given_seed():
    rng = random.Random(5)
    videos = {f"v{i}": [f"u{rng.randrange(12)}", f"u{rng.randrange(12)}"] for i in range(60)}
    labels = {v: rng.choice([0, 1]) for v in videos}
    problem, _, _ = build_problem(videos, labels, (0.7, 0.1, 0.2))
    assert search_assignment(problem, seed=3) == search_assignment(problem, seed=3)


# --- honest splits of the real Celeb-DF subset -------------------------------------------------
@pytest.fixture(scope="module")
def mini_table(celebdf_mini) -> SampleTable:
    return load_dataset(celebdf_mini)


@pytest.fixture(scope="module")
def identity_split(mini_table) -> Split:
    return split_by_identity(mini_table, test_fraction=0.2, val_fraction=0.1, seed=0)


@pytest.fixture(scope="module")
def target_split(mini_table) -> Split:
    return split_by_target(mini_table, test_fraction=0.2, val_fraction=0.1, seed=0)


def assert_fractions_near(split: Split, tolerance: float) -> None:
    labels = labels_by_name(v for vs in split.parts.values() for v in vs)
    for lab in (REAL, FAKE):
        total = sum(1 for v in labels.values() if v == lab)
        for p in PARTS:
            share = sum(1 for v in split.parts[p] if labels[v] == lab) / total
            assert abs(share - FRACTIONS[p]) <= tolerance + 1e-9, (p, lab, share)


@pytest.mark.data
def test_target_split_keeps_targets_apart_and_drops_nothing(target_split, mini_table):
    split = target_split
    assert split.dropped == []
    assert sorted(v for vs in split.parts.values() for v in vs) == sorted(mini_table.videos)
    targets = {p: {identities_from_name(v)[0] for v in vs} for p, vs in split.parts.items()}
    for a, b in itertools.combinations(PARTS, 2):
        assert not targets[a] & targets[b]
    assert_fractions_near(split, 0.03)
    assert split.meta["counts"]["dropped"] == 0 and split.meta["by"] == "target"
    report = check_split(split, mini_table)
    assert report.passed and report.is_clean and not report.failures


@pytest.mark.data
def test_identity_split_shares_no_identity_at_all(identity_split, mini_table):
    split = identity_split
    people = {p: {i for v in vs for i in identities_from_name(v)} for p, vs in split.parts.items()}
    for a, b in itertools.combinations(PARTS, 2):
        assert not people[a] & people[b], (a, b)
    named = [v for vs in (*split.parts.values(), split.dropped) for v in vs]
    assert sorted(named) == sorted(mini_table.videos)  # every video exactly once
    assert_fractions_near(split, 0.03)
    report = check_split(split, mini_table)
    assert report.passed and not report.shared_sources and not report.warnings


@pytest.mark.data
def test_identity_split_drops_only_bridging_videos(identity_split):
    """No dropped video could join a part without putting one of its identities on two sides."""
    split = identity_split
    assert split.dropped and split.to_dict()["dropped"] == split.dropped
    owner = {i: p for p, vs in split.parts.items() for v in vs for i in identities_from_name(v)}
    for v in split.dropped:
        homes = {owner.get(i) for i in identities_from_name(v)} - {None}
        assert len(homes) >= 2, v


@pytest.mark.data
def test_identity_split_drops_fewer_than_random_assignments(identity_split, mini_table):
    """Baseline: identities drawn into parts at random with the wanted fractions."""
    ours = len(identity_split.dropped)
    people = sorted({i for v in mini_table.videos for i in identities_from_name(v)})
    rng = random.Random(0)
    baseline = []
    for _ in range(50):
        part = dict(zip(people, rng.choices(PARTS, weights=list(FRACTIONS.values()), k=len(people))))
        baseline.append(sum(1 for v in mini_table.videos if len({part[i] for i in identities_from_name(v)}) > 1))
    assert ours < min(baseline)
    assert ours <= 0.06 * len(mini_table.videos)


@pytest.mark.data
def test_splits_are_deterministic_given_seed(mini_table, target_split):
    again = split_by_target(mini_table, test_fraction=0.2, val_fraction=0.1, seed=0)
    assert again.to_dict() == target_split.to_dict()
    other = split_by_target(mini_table, test_fraction=0.2, val_fraction=0.1, seed=1)
    assert other.parts != target_split.parts


@pytest.mark.data
def test_video_split_is_reported_leaky(mini_table):
    split = split_by_video(mini_table, seed=0)
    assert not split.dropped
    report = check_split(split, mini_table)
    targets = {p: {identities_from_name(v)[0] for v in vs} for p, vs in split.parts.items()}
    expected = {f"{a}/{b}": sorted(targets[a] & targets[b]) for a, b in itertools.combinations(PARTS, 2)}
    assert report.shared_targets == {k: v for k, v in expected.items() if v}
    assert not report.passed and not report.is_clean
    with pytest.raises(SplitLeakageError, match="shared|share") as err:
        require_clean_split(split, mini_table)
    assert "\n" not in str(err.value)


# --- leakage checks on small hand-made tables ---------------------------------------------
def tiny_table() -> SampleTable:
    rows = [
        ("Celeb-real/id0_0000", ("id0",)),
        ("Celeb-real/id0_0001", ("id0",)),
        ("Celeb-real/id1_0000", ("id1",)),
        ("Celeb-real/id2_0000", ("id2",)),
        ("Celeb-synthesis/id0_id1_0000", ("id0", "id1")),
        ("Celeb-synthesis/id2_id0_0000", ("id2", "id0")),
        ("YouTube-real/00001", ("YouTube-real/00001",)),
    ]
    return SampleTable(
        [
            Sample(f"/x/{v}.mp4", FAKE if "synthesis" in v else REAL, v, ids, v.split("/")[0], "celebdf-v2")
            for v, ids in rows
        ]
    )


def test_check_split_classifies_shared_identities(caplog):
    table = tiny_table()
    split = Split(
        train=["Celeb-real/id0_0000", "Celeb-synthesis/id0_id1_0000", "YouTube-real/00001", "Celeb-real/id1_0000"],
        test=["Celeb-real/id2_0000", "Celeb-synthesis/id2_id0_0000", "Celeb-real/id0_0001"],
        meta={"by": "target"},
    )
    # id0: target on both sides (real id0_0000 / id0_0001); id1 only in train
    report = check_split(split, table)
    assert report.shared_videos == {} and report.shared_targets == {"train/test": ["id0"]}
    assert report.shared_sources == {} and not report.passed
    with pytest.raises(SplitLeakageError, match="train/test share 1 target identity"):
        require_clean_split(split, table)
    # without id0_0001, id0 is a target in train and only a source (id2_id0) in test
    split.test.remove("Celeb-real/id0_0001")
    split.dropped.append("Celeb-real/id0_0001")
    report = check_split(split, table)
    assert report.shared_targets == {} and report.shared_sources == {"train/test": ["id0"]}
    assert report.passed and report.warnings == ["train/test: 1 shared source identity (id0)"]
    assert require_clean_split(split, table).passed
    split.meta["by"] = "identity"  # the strict kind promises no shared identity at all
    assert not check_split(split, table).passed
    split.test.append("Celeb-real/id0_0000")
    with pytest.raises(SplitLeakageError, match="train/test share 1 video "):
        require_clean_split(split, table)
    with caplog.at_level(logging.WARNING, logger="acglab.data.splits"):
        report = require_clean_split(split, table, allow_leaky=True)
    assert report.shared_videos == {"train/test": ["Celeb-real/id0_0000"]}
    assert "explicitly allowed" in caplog.text


def test_unknown_videos_are_one_clear_error():
    split = Split(train=["Celeb-real/id0_0000", "Celeb-real/id9_0001", "Celeb-real/id8_0001"])
    expected = r"names 2 videos this dataset does not have \(Celeb-real/id8_0001, Celeb-real/id9_0001\)"
    with pytest.raises(SplitError, match=expected):
        check_split(split, tiny_table())


def test_group_split_with_a_group_function():
    rows = [
        Sample(f"/x/{g}{i}.png", i % 2, f"{g}/{i}", (f"{g}/{i}",), g, "toy") for g in "abcdefghij" for i in range(4)
    ]
    table = SampleTable(rows)
    split = split_by_group(table, lambda s: s.category, test_fraction=0.2, val_fraction=0.1, seed=0)
    for vs in split.parts.values():
        for v in vs:
            assert all(w in vs for w in table.videos if w.split("/")[0] == v.split("/")[0])
    assert not split.dropped and sum(len(vs) for vs in split.parts.values()) == 40
    assert [len(split.parts[p]) for p in PARTS] == [28, 4, 8]


def test_bad_fractions_and_kinds():
    with pytest.raises(SplitError, match="below 1"):
        split_by_target(tiny_table(), test_fraction=0.6, val_fraction=0.5)
    with pytest.raises(SplitError, match=r"\[0, 1\)"):
        split_by_target(tiny_table(), test_fraction=-0.1)
    with pytest.raises(SplitError, match="unknown split kind"):
        make_split(tiny_table(), by="frame")


# --- official splits ------------------------------------------------------------------------
def test_official_celebdf_split_with_val_carved_by_target(tmp_path):
    names = [f"Celeb-real/id{i}_{k:04d}" for i in range(8) for k in range(3)]
    names += [f"Celeb-synthesis/id{i}_id{(i + 1) % 8}_{k:04d}" for i in range(8) for k in range(4)]
    names += [f"YouTube-real/{k:05d}" for k in range(6)]
    for n in names:
        (tmp_path / n).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f"{n}.mp4").write_bytes(b"")
    test = [n for n in names if re.search(r"id[01]_|00000", n)]
    (tmp_path / "List_of_testing_videos.txt").write_text(
        "".join(f"{0 if 'synthesis' in n else 1} {n}.mp4\n" for n in test)
    )
    table = load_dataset(tmp_path)
    split = official_split(tmp_path, table, val_fraction=0.15, seed=0)
    assert sorted(split.test) == sorted(test)
    assert split.val and not split.dropped
    train_targets = {identities_from_name(v)[0] for v in split.train}
    assert not train_targets & {identities_from_name(v)[0] for v in split.val}
    assert sorted(split.train + split.val) == sorted(set(names) - set(test))
    assert split.meta["by"] == "official"


@pytest.mark.data
def test_official_split_of_celebdf_mini_is_all_test(celebdf_mini, mini_table):
    split = make_split(mini_table, by="official", val_fraction=0.1, root=celebdf_mini)
    assert len(split.test) == 397 and not split.train and not split.val
    assert any("train part is empty" in n for n in split.meta["notes"])


def test_official_split_needs_a_partition(tmp_path):
    for rel in ("real/a.mp4", "fake/b.mp4"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    with pytest.raises(DataLayoutError, match="no official split"):
        make_split(load_dataset(tmp_path), by="official", root=tmp_path)


# --- split files ----------------------------------------------------------------------------
def test_split_file_round_trip_and_format(tmp_path):
    table = tiny_table()
    split = split_by_identity(table, test_fraction=0.3, val_fraction=0.0, seed=0)
    path = save_split(split, tmp_path / "sub" / "split.json")
    data = json.loads(path.read_text())
    assert set(data) == {*PARTS, "meta"} | ({"dropped"} if split.dropped else set())
    assert data["meta"]["by"] == "identity" and data["meta"]["seed"] == 0
    assert data["meta"]["fractions"] == pytest.approx({"train": 0.7, "val": 0.0, "test": 0.3})
    assert data["meta"]["dataset"] == "celebdf-v2"
    assert set(data["meta"]["counts"]) == {*PARTS, "dropped"}
    assert load_split(path).to_dict() == split.to_dict()
    assert [p.name for p in path.parent.iterdir()] == ["split.json"]


def test_split_file_written_atomically(tmp_path):
    path = tmp_path / "split.json"
    path.write_text("previous")
    with pytest.raises(TypeError):
        save_split(Split(train=["a"], meta={"bad": object()}), path)
    assert path.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["split.json"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "cannot read split file"),
        ("[1, 2]", "not a JSON object"),
        ('{"train": "a"}', "'train' must be a list"),
        ('{"folds": []}', "unknown keys folds"),
        ('{"train": [], "meta": []}', "'meta' must be an object"),
    ],
)
def test_malformed_split_files(tmp_path, content, message):
    path = tmp_path / "split.json"
    path.write_text(content)
    with pytest.raises(SplitError, match=re.escape(message)):
        load_split(path)
    with pytest.raises(SplitError, match="does not exist"):
        load_split(tmp_path / "missing.json")
