"""The behaviour every trainer shares: stop rules, the log, and stopping cleanly on a signal."""

import json
import os
import signal

import pytest
import torch

from kocr_sdk.lab.training.run import TrainingRun, stream_loader


def test_max_steps_and_the_log(tmp_path):
    with TrainingRun(tmp_path, total=10, step=3, max_steps=5, progress=False) as run:
        assert not run.finished(4) and run.finished(5)
        run.log({"step": 4, "text": "한글"})
    rows = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows == [{"step": 4, "text": "한글"}]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_finishes_the_run_instead_of_killing_it(tmp_path, sig):
    before = signal.getsignal(sig)
    with TrainingRun(tmp_path, total=10, progress=False) as run:
        assert not run.finished(1)
        os.kill(os.getpid(), sig)
        assert run.interrupted == signal.Signals(sig).name and run.finished(1)
    assert signal.getsignal(sig) is before  # handlers are the caller's again afterwards


def test_a_second_ctrl_c_interrupts_at_once(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with TrainingRun(tmp_path, total=10, progress=False):
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)


class _Pids(torch.utils.data.IterableDataset):
    def __iter__(self):
        while True:
            yield torch.tensor([os.getpid()])


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stream_loader_workers_ignore_stop_signals(sig):
    # Ctrl-C in a terminal, and `pkill -f`, `timeout` or a scheduler's SIGTERM, reach the workers
    # too: a worker that died of it would fail the trainer's next batch before its checkpoint.
    batches = iter(stream_loader(_Pids(), workers=1, prefetch=1))
    worker = int(next(batches))
    assert worker != os.getpid()
    os.kill(worker, sig)
    assert int(next(batches)) == worker and int(next(batches)) == worker


# --------------------------------------------------------------------- the loop every trainer runs
from pathlib import Path  # noqa: E402

import torch.nn.functional as F  # noqa: E402

from kocr_sdk.errors import KocrConfigError  # noqa: E402
from kocr_sdk.lab.training.base import ConfigDeprecation, RunConfig, Trainer  # noqa: E402


class ToyConfig(RunConfig):
    out: Path = Path("runs/toy")
    batch_size: int = 8
    lr: float = 0.05
    warmup_steps: int = 2
    total_steps: int = 20
    log_every: int = 1
    val_every: int = 3
    val_size: int = 16
    workers: int = 0
    device: str = "cpu"
    dropout: float = 0.3


class ToyTrainer(Trainer[ToyConfig]):
    """A linear regression with a norm and dropout; batch ``t`` is a pure function of (seed, t)."""

    def __init__(self, cfg, resume=None, progress=False):
        super().__init__(cfg, resume, progress)
        self.losses, self.dtypes, self.grad_norms = [], [], []

    def build_model(self):
        return torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.LayerNorm(16), torch.nn.Dropout(self.cfg.dropout),
                                   torch.nn.Linear(16, 1))

    def _batch(self, t, size):
        x = torch.randn(size, 4, generator=torch.Generator().manual_seed(1000 * self.cfg.seed + t))
        return x, x.sum(1, keepdim=True) * 3

    def batches(self):
        step = self.step
        while True:
            yield self._batch(step, self.cfg.batch_size)
            step += 1

    def forward(self, batch):
        out = self.model(batch[0])
        self.dtypes.append(out.dtype)
        return out

    def loss(self, batch, out):
        loss = F.mse_loss(out.float(), batch[1])
        self.losses.append(loss.item())
        return loss, {"mse": loss.item()}

    def after_step(self):
        self.grad_norms.append(float(torch.linalg.vector_norm(torch.stack(
            [p.grad.norm() for p in self.model.parameters() if p.grad is not None]))))

    def validation_data(self):
        return self._batch(-1, self.cfg.val_size)

    def validate(self, data):
        self.model.eval()
        with torch.no_grad():
            mse = F.mse_loss(self.model(data[0]), data[1]).item()
        self.model.train()
        return {"mse": mse}

    def export(self, checkpoint, out):
        meta = {"step": torch.load(checkpoint, weights_only=True)["step"]}
        out.write_text(json.dumps(meta))
        return meta


def _fit(cfg, resume=None, cls=ToyTrainer):
    trainer = cls(cfg, resume)
    return trainer, trainer.fit()


def test_a_resumed_run_continues_the_loss_sequence_of_an_uninterrupted_one(tmp_path):
    whole, _ = _fit(ToyConfig(out=tmp_path / "whole", max_steps=6))
    first, _ = _fit(ToyConfig(out=tmp_path / "cut", max_steps=3))
    second, result = _fit(ToyConfig(out=tmp_path / "cut", max_steps=6), resume=tmp_path / "cut" / "last.pt")
    assert first.losses == whole.losses[:3] and result["step"] == 6 and result["samples_seen"] == 48
    # the first step after the resume is exact: same weights, same batch, same dropout mask (torch's
    # random state travels in the checkpoint); later ones differ only by the optimiser moments, which
    # checkpoints keep in bfloat16
    assert second.losses[0] == whole.losses[3]
    assert second.losses == pytest.approx(whole.losses[3:], rel=1e-3)
    rows = [json.loads(line) for line in (tmp_path / "cut" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "loss" in r] == [1, 2, 3, 4, 5, 6]
    assert [r["step"] for r in rows if "val" in r] == [3, 6]
    assert all({"mse", "lr", "minutes", "samples"} <= set(r) for r in rows if "loss" in r)
    saved = torch.load(tmp_path / "cut" / "last.pt", weights_only=True)
    assert saved["step"] == 6 and saved["samples_seen"] == 48 and "rng" in saved and "minutes" in saved
    assert not {"resume", "export", "progress"} & set(saved["config"])  # the recipe, not this invocation


def test_max_steps_stops_at_the_same_global_step_after_a_resume(tmp_path):
    cfg = ToyConfig(out=tmp_path / "run", max_steps=4)
    _fit(cfg)
    checkpoint = tmp_path / "run" / "last.pt"
    before = checkpoint.read_bytes()
    for max_steps in (4, 2):  # reached already: nothing to train, the checkpoint stays as it was
        trainer, result = _fit(cfg.model_copy(update={"max_steps": max_steps}), resume=checkpoint)
        assert trainer.losses == [] and result["step"] == 4 and result["val"]["step"] == 4
    assert checkpoint.read_bytes() == before
    trainer, result = _fit(cfg.model_copy(update={"max_steps": 5}), resume=checkpoint)
    assert len(trainer.losses) == 1 and result["step"] == 5


def test_precision_runs_the_forward_pass_in_bfloat16_and_keeps_fp32_weights(tmp_path):
    fp32, _ = _fit(ToyConfig(out=tmp_path / "a", max_steps=2))
    bf16, _ = _fit(ToyConfig(out=tmp_path / "b", max_steps=2, precision="bf16"))
    assert set(fp32.dtypes) == {torch.float32} and set(bf16.dtypes) == {torch.bfloat16}
    saved = torch.load(tmp_path / "b" / "last.pt", weights_only=True)["model"]
    assert all(v.dtype == torch.float32 for v in saved.values())

    class GpuOnlyBf16(ToyTrainer):
        bf16_on_cpu = False

    gpu_only, _ = _fit(ToyConfig(out=tmp_path / "c", max_steps=2, precision="bf16"), cls=GpuOnlyBf16)
    assert set(gpu_only.dtypes) == {torch.float32}  # on a CPU it trains in fp32


def test_gradients_are_clipped_to_grad_clip_and_not_without_it(tmp_path):
    clipped, _ = _fit(ToyConfig(out=tmp_path / "a", max_steps=3, grad_clip=0.01))
    free, _ = _fit(ToyConfig(out=tmp_path / "b", max_steps=3, grad_clip=None))
    assert all(n <= 0.01 * (1 + 1e-5) for n in clipped.grad_norms)
    assert max(free.grad_norms) > 0.1


def test_weight_decay_applies_to_weight_matrices_only(tmp_path):
    trainer, _ = _fit(ToyConfig(out=tmp_path / "run", max_steps=1, weight_decay=0.3))
    decayed, plain = trainer.optimizer.param_groups
    linear1, norm, _, linear2 = trainer.model
    assert decayed["weight_decay"] == 0.3 and plain["weight_decay"] == 0.0
    assert {id(p) for p in decayed["params"]} == {id(linear1.weight), id(linear2.weight)}
    assert {id(p) for p in plain["params"]} == {id(linear1.bias), id(norm.weight), id(norm.bias), id(linear2.bias)}


def test_export_at_the_stop_and_from_the_resumed_file_when_nothing_trained(tmp_path):
    _, result = _fit(ToyConfig(out=tmp_path / "run", max_steps=2, export=tmp_path / "w.json"))
    assert result["export"] == {"step": 2} and json.loads((tmp_path / "w.json").read_text()) == {"step": 2}
    _, again = _fit(ToyConfig(out=tmp_path / "other", max_steps=0, export=tmp_path / "w2.json"),
                    resume=tmp_path / "run" / "last.pt")
    assert again["step"] == 2 and again["export"] == {"step": 2} and not (tmp_path / "other" / "last.pt").exists()


def test_bad_config_values_are_config_errors_naming_the_key(tmp_path):
    with pytest.raises(KocrConfigError, match="precision"):
        ToyConfig.checked({"precision": "fp16"})
    with pytest.raises(KocrConfigError, match="device: unknown device 'gpu'"):
        ToyConfig.checked({"device": "gpu"})
    with pytest.raises(KocrConfigError, match="batch_size"):  # model_copy skips validation; the run does not
        ToyTrainer(ToyConfig(out=tmp_path).model_copy(update={"batch_size": 0}))
    with pytest.raises(KocrConfigError, match="max_steps"):
        ToyConfig().with_options(max_steps=-1)
    assert ToyConfig().with_options(max_steps=None, seed=3).seed == 3  # options not given change nothing


def test_the_detectors_old_keys_still_load_with_a_deprecation_note():
    from kocr_sdk.lab.training.detector import DetectorTrainConfig

    with pytest.warns(ConfigDeprecation, match="write `precision: fp32`"):
        cfg = DetectorTrainConfig.model_validate({"amp": False})
    assert cfg.precision == "fp32" and DetectorTrainConfig().precision == "bf16"
    with pytest.warns(ConfigDeprecation, match="write `val_size: 3`"):
        assert DetectorTrainConfig.model_validate({"val_pages": 3}).val_size == 3
    with pytest.raises(KocrConfigError, match="give `precision` only"):
        DetectorTrainConfig.checked({"amp": True, "precision": "bf16"})
    with pytest.raises(KocrConfigError, match="amp: true or false"):
        DetectorTrainConfig.checked({"amp": "yes"})


def test_every_train_command_takes_the_shared_options_once():
    from kocr_sdk.lab.cli.train import train

    shared = {"--config", "--out", "--resume", "--max-minutes", "--max-steps", "--export", "--device", "--seed",
              "--workers", "--precision", "--quiet"}
    packing_only = {"--resume", "--export", "--quiet"}  # a bundle is packed, not trained, here
    for name, command in train.commands.items():
        if name == "export":
            continue
        options = [opt for param in command.params for opt in param.opts]
        assert (shared - packing_only if name == "bundle" else shared) <= set(options), name
        assert len(options) == len(set(options)), name
    source = (Path(__file__).resolve().parents[1] / "kocr_sdk" / "lab" / "cli" / "train.py").read_text()
    assert all(source.count(f'"{option}"') == 1 for option in shared)
