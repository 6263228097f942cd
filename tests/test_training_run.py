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
