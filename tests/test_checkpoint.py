"""Checkpoints: a round trip gives identical outputs and OT state, a resumed run repeats the
uninterrupted one exactly, files load with torch.load(weights_only=True), writes are atomic, and
corrupt files, foreign files and other architectures raise CheckpointError."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from acglab.errors import CheckpointError
from acglab.losses import acg_loss
from acglab.models import build_model, load_checkpoint, load_weights, model_from_checkpoint, save_checkpoint
from acglab.models.checkpoint import FORMAT

SMALL = "test_efficientnet"
SIZE = 48
OT = {"bank_size": 16, "warmup": 8, "refit_every": 2, "dim": 4, "max_steps": 10, "samples": 1024}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


class Unlisted:
    """A class torch.load(weights_only=True) refuses to rebuild."""


def batches(n: int, seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(8, 3, SIZE, SIZE, generator=g), torch.randint(0, 2, (8,), generator=g)) for _ in range(n)]


def train_steps(model, optimizer, scheduler, data) -> list:
    model.train()
    seen = []
    for x, y in data:
        out = model(x)
        loss, _ = acg_loss(out, x, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        seen.append((out.logits.detach().clone(), dict(out.ot)))
    return seen


def make_training(seed: int = 0):
    torch.manual_seed(seed)
    model = build_model("acg", SMALL, img_size=SIZE, ot=OT)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    return model, optimizer, scheduler


def test_round_trip_and_exact_resume(tmp_path):
    model, optimizer, scheduler = make_training()
    data = batches(6, seed=1)
    train_steps(model, optimizer, scheduler, data[:3])
    assert int(model.ot.fit_count) > 0
    rng = torch.get_rng_state()
    path = save_checkpoint(
        tmp_path / "run" / "last.pt",
        model,
        optimizer,
        scheduler,
        epoch=1,
        step=3,
        best_auc=0.5,
        rng={"torch": rng},
        history=[{"loss": 0.7}],
    )
    assert sorted(p.name for p in path.parent.iterdir()) == ["last.pt"]

    raw = torch.load(path, weights_only=True)
    assert raw["format"] == FORMAT and raw["config"] == model.config
    assert raw["state"]["step"] == 3 and raw["state"]["history"] == [{"loss": 0.7}]

    # reloaded model: same weights and OT buffers, same outputs in eval mode
    restored = model_from_checkpoint(path)
    assert not restored.training
    for key, value in model.state_dict().items():
        assert torch.equal(restored.state_dict()[key], value), key
    x = batches(1, seed=9)[0][0]
    model.eval()
    with torch.no_grad():
        assert torch.equal(restored(x).logits, model(x).logits)

    # resume: the continued run and the resumed run are identical, OT refits included
    torch.set_rng_state(rng)  # building models above drew from the global generator
    expected = train_steps(model, optimizer, scheduler, data[3:])
    ckpt = load_checkpoint(path)
    resumed, optimizer2, scheduler2 = make_training(seed=123)
    load_weights(resumed, ckpt)
    optimizer2.load_state_dict(ckpt["optimizer"])
    scheduler2.load_state_dict(ckpt["scheduler"])
    torch.set_rng_state(ckpt["state"]["rng"]["torch"])
    got = train_steps(resumed, optimizer2, scheduler2, data[3:])
    assert any(ot["refit"] for _, ot in got)
    for (a, ot_a), (b, ot_b) in zip(expected, got):
        assert torch.equal(a, b)
        assert {k: v for k, v in ot_a.items() if k != "fit_seconds"} == {
            k: v for k, v in ot_b.items() if k != "fit_seconds"
        }
    for key, value in model.state_dict().items():
        assert torch.equal(resumed.state_dict()[key], value), key


def test_checkpoints_without_ot_labels_still_load(tmp_path):
    """Checkpoints written before the OT bank kept labels (no ``ot.bank_labels``/``ot.fit_labels``,
    no ``same_class`` option) load with every label unknown; any other missing key is refused."""
    torch.manual_seed(0)
    model = build_model("acg", SMALL, img_size=SIZE, ot=OT).train()
    for x, y in batches(2, seed=3):
        model(x, labels=y)
    assert (model.ot.fit_labels[: int(model.ot.fit_count)] >= 0).all()
    path = save_checkpoint(tmp_path / "new.pt", model)
    ckpt = torch.load(path, weights_only=True)
    assert ckpt["config"]["options"]["ot"]["same_class"] is False
    del ckpt["config"]["options"]["ot"]["same_class"]
    for key in ("ot.bank_labels", "ot.fit_labels"):
        del ckpt["model"][key]
    old = tmp_path / "old.pt"
    torch.save(ckpt, old)
    restored = model_from_checkpoint(old)
    assert restored.ot.options.same_class is False
    assert (restored.ot.bank_labels == -1).all() and (restored.ot.fit_labels == -1).all()
    for key, value in model.state_dict().items():
        if key not in ("ot.bank_labels", "ot.fit_labels"):
            assert torch.equal(restored.state_dict()[key], value), key
    keys = set(ckpt["model"])
    load_weights(build_model("acg", SMALL, img_size=SIZE, ot=OT), ckpt)
    assert set(ckpt["model"]) == keys  # the checkpoint dict is not changed
    del ckpt["model"]["ot.bank"]
    with pytest.raises(CheckpointError, match="1 missing .*'ot.bank'"):
        load_weights(build_model("acg", SMALL, img_size=SIZE, ot=OT), ckpt)


def test_corrupt_and_foreign_files_raise_checkpoint_error(tmp_path):
    model = build_model("backbone", SMALL, img_size=SIZE)
    good = save_checkpoint(tmp_path / "good.pt", model)
    data = good.read_bytes()
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(data[: len(data) // 2])
    noise = tmp_path / "noise.pt"
    noise.write_bytes(np.random.default_rng(0).bytes(4096))
    plain = tmp_path / "plain.pt"
    torch.save({"weights": torch.zeros(2)}, plain)
    pickled = tmp_path / "pickled.pt"
    torch.save({"format": FORMAT, "config": {}, "model": {}, "thing": Unlisted()}, pickled)
    for path, message in [
        (truncated, "cannot read checkpoint"),
        (noise, "cannot read checkpoint"),
        (plain, "not an acglab checkpoint"),
        (pickled, "cannot read checkpoint"),
        (tmp_path / "missing.pt", "no checkpoint at"),
    ]:
        with pytest.raises(CheckpointError, match=message) as err:
            load_checkpoint(path)
        assert "\n" not in str(err.value)
        with pytest.raises(CheckpointError):
            model_from_checkpoint(path)


def test_another_architecture_is_refused(tmp_path):
    backbone_ckpt = save_checkpoint(tmp_path / "backbone.pt", build_model("backbone", SMALL, img_size=SIZE))
    acg = build_model("acg", SMALL, img_size=SIZE)
    with pytest.raises(CheckpointError, match="arch 'backbone'.*the model is arch 'acg'"):
        load_weights(acg, backbone_ckpt)
    other_net = save_checkpoint(tmp_path / "resnet.pt", build_model("acg", "test_resnet", img_size=SIZE))
    with pytest.raises(CheckpointError, match="backbone 'test_resnet'"):
        load_weights(acg, other_net)
    narrow = save_checkpoint(
        tmp_path / "narrow.pt", build_model("acg", SMALL, img_size=SIZE, decoder_channels=[8, 8, 8])
    )
    with pytest.raises(CheckpointError, match="does not fit the model: .*of another shape"):
        load_weights(acg, narrow)
    # the checkpoint itself rebuilds its own architecture
    assert model_from_checkpoint(narrow).config["options"]["decoder_channels"] == [8, 8, 8]


def test_writes_are_atomic(tmp_path, monkeypatch):
    model = build_model("backbone", SMALL, img_size=SIZE)
    path = save_checkpoint(tmp_path / "ckpt.pt", model, step=1)
    before = path.read_bytes()

    def broken_save(obj, f, *args, **kwargs):
        with open(f, "wb") as handle:
            handle.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, model, step=2)
    monkeypatch.undo()
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pt"]
    assert load_checkpoint(path)["state"]["step"] == 1


def test_state_that_weights_only_cannot_read_is_refused_before_writing(tmp_path):
    model = build_model("backbone", SMALL, img_size=SIZE)
    with pytest.raises(CheckpointError, match=r"state\['rng'\]\['numpy'\].*numpy.ndarray"):
        save_checkpoint(tmp_path / "x.pt", model, rng={"numpy": np.zeros(3)})
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(CheckpointError, match="no .config"):
        save_checkpoint(tmp_path / "x.pt", torch.nn.Linear(2, 2))
