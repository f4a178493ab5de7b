"""Latent interpolation studies (acglab.eval.interpolation) and notebook 04's explorers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from acglab.data.arrays import digit_array
from acglab.eval.interpolation import PATH_KINDS, latent_geometry, law_evidence, pair_choices, study_path, study_paths
from acglab.metrics.sharpness import laplacian_variance
from acglab.ot.paths import linear_path, spherical_path
from acglab.ot.targets import standardise
from acglab.train.latent import LatentConfig, cached_latent_model
from acglab.viz.interpolation_figures import law_table_html, paths_3d_figure
from acglab.viz.interpolation_widgets import energy_explorer, path_explorer

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def geometry(tmp_path_factory):
    torch.set_num_threads(1)
    data = digit_array().subset(np.arange(300))
    model, _ = cached_latent_model(
        LatentConfig(model="ae", latent_dim=4, epochs=3, batch_size=64), data, root=tmp_path_factory.mktemp("latent")
    )
    return latent_geometry(model, data, graph_samples=2**14)


def test_standardised_codes_have_zero_mean_and_unit_rms_norm():
    codes = np.random.default_rng(0).normal(3.0, 2.0, size=(50, 6))
    z, mean, scale = standardise(codes)
    assert np.allclose(z * scale + mean, codes)
    assert np.allclose(z.mean(0), 0) and np.sqrt((z**2).sum(1).mean()) == pytest.approx(1.0)


def test_geometry_holds_the_codes_and_a_consistent_cell_graph(geometry):
    g = geometry
    assert g.codes.shape == (300, 4) and g.pairs.shape[1] == 2 and len(g.pairs) > 300
    assert np.array_equal(g.singular, g.angles > g.threshold)
    assert (g.pairs >= 0).all() and (g.pairs < 300).all() and (g.pairs[:, 0] != g.pairs[:, 1]).all()
    looser = g.with_threshold(1.2)
    assert np.array_equal(looser.singular, g.angles > 1.2) and looser.singular.sum() <= g.singular.sum()
    assert g.projection(g.codes).shape == (300, 3)


def test_study_path_decodes_and_measures_each_kind(geometry):
    g = geometry
    seen = []

    def scorer(images):
        seen.append(images.shape)
        return images.mean(axis=(1, 2, 3))

    s = study_path(g, 3, 17, "linear", steps=9, scorer=scorer)
    assert np.allclose(s.codes, linear_path(g.codes[3], g.codes[17], 9))
    assert np.allclose(s.images, g.decode(s.codes)) and s.images.shape == (9, 1, 8, 8)
    assert np.allclose(s.sharpness, laplacian_variance(s.images))
    assert s.scores is None and not seen  # one-channel images are not scored
    assert np.allclose(study_path(g, 3, 17, "spherical", steps=9).codes, spherical_path(g.codes[3], g.codes[17], 9))
    ot = study_path(g, 3, 17, "ot", steps=9)
    assert ot.route.nodes[0] == 3 and ot.route.nodes[-1] == 17
    assert np.allclose(ot.codes[[0, -1]], g.codes[[3, 17]])
    assert ot.summary()["route_codes"] == len(ot.route.nodes)
    assert set(study_paths(g, 3, 17, steps=5)) == set(PATH_KINDS)
    with pytest.raises(Exception, match="path kind"):
        study_path(g, 3, 17, "zigzag")


def test_pair_choices_and_law_evidence(geometry):
    pairs = pair_choices(geometry, 4, "digit")
    assert 1 <= len(pairs) <= 4 and all(p.start != p.end for p in pairs)
    assert all(("crosses" in p.label) == (p.singular_steps > 0) for p in pairs)
    ev = law_evidence(geometry, n_pairs=3, steps=7)
    assert [row["kind"] for row in ev.table] == list(PATH_KINDS)
    assert len(ev.on_segments) + len(ev.off_segments) == 3 * 3 * 5
    # the OT-aware path runs along the AE-OT segments more than the straight one
    share = {row["kind"]: row["off_segments"] for row in ev.table}
    assert share["ot"] <= share["linear"]
    assert "OT-aware" in law_table_html(ev)


def test_path_explorer_walks_and_switches_pairs(geometry):
    pairs = pair_choices(geometry, 2, "digit")
    explorer = path_explorer(geometry, pairs, 11, thresholds=(0.3, 1.5))
    before = np.array(explorer.figure.data[11].z).copy()  # the decoded faces
    explorer.sliders["t"].value = 0
    after = np.array(explorer.figure.data[11].z)
    assert not np.array_equal(before, after) and "nearest code" in explorer.readout.value
    line = np.array(explorer.figure.data[2].x)
    if len(pairs) > 1:
        explorer.sliders["pair"].value = 1
        assert not np.allclose(line, np.array(explorer.figure.data[2].x))
    singular_faces = len(explorer.figure.data[1].x)
    explorer.sliders["theta"].value = 1.5
    assert len(explorer.figure.data[1].x) <= singular_faces and "θ = 1.50" in explorer.readout.value
    explorer.sliders["theta"].value = 0.3
    assert len(explorer.figure.data[1].x) > 0
    fig = paths_3d_figure(geometry, study_paths(geometry, pairs[0].start, pairs[0].end, steps=5))
    assert len(fig.data) == 2 + len(PATH_KINDS)


def test_energy_explorer_shows_collapse_and_mixing():
    explorer = energy_explorer(bandwidth=0.5, start=-1.3, spread=0.2)
    assert "mode collapse" in explorer.readout.value
    final = np.array(explorer.figure.data[3].x)
    explorer.sliders["s"].value = 2.5
    assert "mode mixing" in explorer.readout.value
    assert not np.allclose(final, np.array(explorer.figure.data[3].x))
    explorer.sliders["s"].value = 0.5
    explorer.sliders["spread"].value = 5.0
    assert "every one of the 4 modes" in explorer.readout.value


def test_colour_paths_are_scored_by_the_detector_callable():
    from acglab.data.arrays import ImageArray
    from acglab.models.latent import build_latent_model

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    data = ImageArray(rng.integers(0, 256, (40, 3, 16, 16), dtype=np.uint8), {"label": np.arange(40) % 2})
    model = build_latent_model({"model": "ae", "channels": 3, "img_size": 16, "latent_dim": 3}).eval()
    g = latent_geometry(model, data, graph_samples=2**12)
    seen = []

    def scorer(images):
        seen.append(images.shape)
        return images.mean(axis=(1, 2, 3))

    s = study_path(g, 0, 5, "ot", steps=6, scorer=scorer)
    assert seen == [(6, 3, 16, 16)] and np.allclose(s.scores, s.images.mean(axis=(1, 2, 3)))
    assert "score" in s.summary()
