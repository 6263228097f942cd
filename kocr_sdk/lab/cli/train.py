"""``kocr train``: train kocr's models on data kocr generates, resumably."""

from __future__ import annotations

from pathlib import Path

import click

from ...cli.common import KocrGroup, note


@click.group(cls=KocrGroup)
def train() -> None:
    """Train models (recognizer, ...) on synthetic data; runs resume from checkpoints."""


def _run_config(cls, config_path: Path | None, default, resume: Path | None, **overrides):
    """A run's config: the YAML file (or ``default()``), with the command-line options that were
    given laid over it; and a clear error, before any work, when ``resume`` does not exist."""
    from ...errors import KocrConfigError
    from ...yamlio import validate_yaml_file

    if config_path:
        cfg = validate_yaml_file(config_path, cls.model_validate, KocrConfigError, "training config")
    else:
        cfg = default()
    cfg = cfg.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    if resume is not None and not resume.exists():
        raise KocrConfigError(f"checkpoint to resume from not found: {resume}")
    return cfg


@train.command("recognizer")
@click.option("--script", type=click.Choice(["hangul", "latin"]), default="hangul", show_default=True)
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="Training config YAML.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Run directory (checkpoints, log).")
@click.option("--resume", type=click.Path(dir_okay=False, path_type=Path), help="Checkpoint to continue from.")
@click.option("--max-minutes", type=float, help="Stop (with a checkpoint) after this many minutes.")
@click.option("--max-steps", type=int, help="Stop after this many optimisation steps in total.")
@click.option("--export", "export_to", type=click.Path(dir_okay=False, path_type=Path),
              help="Afterwards, write shippable fp16 weights here.")
@click.option("--init-from", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Start a new run from these weights: another script's recogniser, or a SeqCLR-pre-trained encoder.")
@click.option("--unlabeled", help="SeqFixMatch on unlabelled crops: a folder of crop images, or synth:N.")
@click.option("--unlabeled-pages", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="SeqFixMatch on a folder of page images (or PDFs): kocr's detector cuts their word crops first "
                   "(into OUT/unlabeled-crops, resumably).")
@click.option("--teacher", type=click.Choice(["frozen", "ema", "self"]),
              help="SeqFixMatch's teacher (overrides the config): frozen — the starting weights, never updated, "
                   "3 weak views that must agree at confidence 0.95, unlabelled loss weighted 3 (use it to adapt "
                   "trained weights); ema — a 0.999 moving average of the student; self — the student itself "
                   "(FixMatch as published).")
@click.option("-q", "--quiet", is_flag=True)
def train_recognizer(script, config_path, out, resume, max_minutes, max_steps, export_to, init_from, unlabeled,
                     unlabeled_pages, teacher, quiet) -> None:
    """Train a column-patch ViTSTR recogniser for one script, optionally with SeqFixMatch on
    unlabelled crops (docs/training.md)."""
    from ..training.recognizer import (FINE_TUNE, TEACHERS, RecognizerTrainConfig, export_weights,
                                       is_trained_recognizer, train as run)

    if unlabeled and unlabeled_pages:
        raise click.UsageError("give --unlabeled or --unlabeled-pages, not both")
    cfg = _run_config(RecognizerTrainConfig, config_path,
                      lambda: RecognizerTrainConfig(script=script, out=Path(f"runs/recognizer-{script}")), resume,
                      out=out, max_minutes=max_minutes, max_steps=max_steps, init_from=init_from, unlabeled=unlabeled)
    if init_from and not config_path and not resume and is_trained_recognizer(init_from, cfg.charset or cfg.script):
        cfg = cfg.model_copy(update={**FINE_TUNE, "total_steps": max_steps or FINE_TUNE["total_steps"]})
        note(f"fine-tuning trained {cfg.script} weights: lr {cfg.lr:g}, {cfg.warmup_steps} warm-up steps, "
             f"cosine over {cfg.total_steps:,} steps (a --config file sets its own)")
    if teacher:
        if not (cfg.unlabeled or unlabeled_pages):
            raise click.UsageError("--teacher is SeqFixMatch's: give --unlabeled or --unlabeled-pages too")
        if teacher == "frozen" and not (cfg.init_from or resume):
            raise click.UsageError("a frozen teacher is the weights the run starts from: give --init-from "
                                   "(trained weights) or --resume")
        cfg = cfg.model_copy(update=TEACHERS[teacher])
    if unlabeled_pages:
        from ..training.unlabeled import crop_pages

        crops = crop_pages(unlabeled_pages, cfg.out / "unlabeled-crops", progress=not quiet)
        cfg = cfg.model_copy(update={"unlabeled": str(crops)})
    if cfg.unlabeled and not cfg.unlabeled.startswith("synth:"):
        from ..training.unlabeled import open_unlabeled

        note(f"SeqFixMatch on {len(open_unlabeled(cfg.unlabeled)):,} unlabelled crops from {cfg.unlabeled}")
    result = run(cfg, resume=resume, progress=not quiet)
    note(f"stopped at step {result['step']} ({result['samples_seen']:,} samples); validation: {result['val']}")
    if export_to:
        meta = export_weights(cfg.out / "last.pt", export_to)
        note(f"wrote {export_to} (step {meta['step']})")


@train.command("recognizer-pretrain")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="Pre-training config YAML.")
@click.option("--unlabeled", help="Unlabelled crops: a folder of crop images, or synth:N (default synth:100000).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Run directory (checkpoints, log).")
@click.option("--resume", type=click.Path(dir_okay=False, path_type=Path), help="Checkpoint to continue from.")
@click.option("--max-minutes", type=float, help="Stop (with a checkpoint) after this many minutes.")
@click.option("--max-steps", type=int, help="Stop after this many optimisation steps in total.")
@click.option("--export", "export_to", type=click.Path(dir_okay=False, path_type=Path),
              help="Afterwards, write the pre-trained encoder here, for `kocr train recognizer --init-from`.")
@click.option("-q", "--quiet", is_flag=True)
def train_recognizer_pretrain(config_path, unlabeled, out, resume, max_minutes, max_steps, export_to, quiet) -> None:
    """Pre-train a recogniser's encoder on unlabelled crops with SeqCLR (contrastive, no labels)."""
    from ..training.seqclr import PretrainConfig, export_encoder, pretrain

    cfg = _run_config(PretrainConfig, config_path, PretrainConfig, resume, unlabeled=unlabeled, out=out,
                      max_minutes=max_minutes, max_steps=max_steps)
    result = pretrain(cfg, resume=resume, progress=not quiet)
    loss = f"{result['loss']:.4f}" if result["loss"] is not None else "n/a"
    note(f"stopped at step {result['step']} ({result['samples_seen']:,} crops); NT-Xent loss {loss}")
    if export_to:
        meta = export_encoder(cfg.out / "last.pt", export_to)
        note(f"wrote {export_to} (encoder, step {meta['step']})")


@train.command("detector")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Training config YAML (the package's: kocr_sdk/detection/configs/detector.yaml, "
                   "and craft.yaml for the CRAFT baseline).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Run directory (checkpoints, log).")
@click.option("--resume", type=click.Path(dir_okay=False, path_type=Path), help="Checkpoint to continue from.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), help="Override the config's device.")
@click.option("--max-minutes", type=float, help="Stop (with a checkpoint) after this many minutes.")
@click.option("--max-steps", type=int, help="Stop after this many optimisation steps in total.")
@click.option("--export", "export_to", type=click.Path(dir_okay=False, path_type=Path),
              help="Afterwards, write shippable fp16 weights here (kocr_sdk/weights/detector-anchor-free.safetensors, "
                   "or detector-craft.safetensors for arch craft-*, to ship).")
@click.option("-q", "--quiet", is_flag=True)
def train_detector(config_path, out, resume, device, max_minutes, max_steps, export_to, quiet) -> None:
    """Train a text detector on synthetic pages: the one-shot anchor-free one, or the CRAFT
    baseline when the config's arch is craft-*."""
    from ..training.detector import DetectorTrainConfig, export_weights, train as run

    cfg = _run_config(DetectorTrainConfig, config_path, DetectorTrainConfig, resume,
                      out=out, device=device, max_minutes=max_minutes, max_steps=max_steps)
    result = run(cfg, resume=resume, progress=not quiet)
    note(f"stopped at step {result['step']} ({result['samples_seen']:,} samples); validation: {result['val']}")
    if export_to:
        meta = export_weights(cfg.out / "last.pt", export_to)
        note(f"wrote {export_to} (step {meta['step']})")


@train.command("script-id")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="Training config YAML.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Run directory (checkpoints, log).")
@click.option("--resume", type=click.Path(dir_okay=False, path_type=Path),
              help="Checkpoint (or exported weights) to continue from.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), help="Override the config's device.")
@click.option("--workers", type=int, help="DataLoader workers rendering crops (0: in the training process).")
@click.option("--max-minutes", type=float, help="Stop (with a checkpoint) after this many minutes.")
@click.option("--max-steps", type=int, help="Stop after this many optimisation steps in total (0 with --resume: just export).")
@click.option("--export", "export_to", type=click.Path(dir_okay=False, path_type=Path),
              help="Afterwards, write shippable fp16 weights here (kocr_sdk/weights/script-id.safetensors to ship).")
@click.option("-q", "--quiet", is_flag=True)
def train_script_id(config_path, out, resume, device, workers, max_minutes, max_steps, export_to, quiet) -> None:
    """Train the script identifier (hangul, latin, digits, han, kana, other) on synthetic crops."""
    from ..eval.script_id import format_confusion
    from ..training.script_id import ScriptIdTrainConfig, export_weights, train as run

    cfg = _run_config(ScriptIdTrainConfig, config_path, ScriptIdTrainConfig, resume,
                      out=out, device=device, workers=workers, max_minutes=max_minutes, max_steps=max_steps)
    result = run(cfg, resume=resume, progress=not quiet)
    val = result["val"]
    if val:
        note(f"stopped at step {result['step']} ({result['samples_seen']:,} samples); held-out accuracy: "
             f"hangul/latin/digits {val['acc_hld']:.4f}, all classes {val['acc_all']:.4f}")
        note(format_confusion(val["confusion"]))
    else:
        note(f"stopped at step {result['step']} ({result['samples_seen']:,} samples)")
    if export_to:
        checkpoint = cfg.out / "last.pt"
        if not checkpoint.exists() and resume is not None:
            checkpoint = resume
        meta = export_weights(checkpoint, export_to)
        note(f"wrote {export_to} ({export_to.stat().st_size / 1e6:.2f} MB, step {meta['step']})")


@train.command("ner")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="Training config YAML.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Run directory (checkpoints, log).")
@click.option("--resume", type=click.Path(path_type=Path),
              help="Checkpoint (or an exported model directory, e.g. the shipped weights) to continue from.")
@click.option("--max-minutes", type=float, help="Stop (with a checkpoint) after this many minutes.")
@click.option("--max-steps", type=int, help="Stop after this many optimisation steps in total (0 with --resume: just export).")
@click.option("--export", "export_to", type=click.Path(file_okay=False, path_type=Path),
              help="Afterwards, write a Hugging Face model directory here (kocr_sdk/weights/ner-char-bert to ship).")
@click.option("-q", "--quiet", is_flag=True)
def train_ner(config_path, out, resume, max_minutes, max_steps, export_to, quiet) -> None:
    """Train the character-level BERT entity recogniser on generated form lines."""
    from ..training.ner import NerTrainConfig, export_model, train as run

    cfg = _run_config(NerTrainConfig, config_path, NerTrainConfig, resume,
                      out=out, max_minutes=max_minutes, max_steps=max_steps)
    result = run(cfg, resume=resume, progress=not quiet)
    val = result["val"]
    if val:
        note(f"stopped at step {result['step']} ({result['samples_seen']:,} lines); held-out entity F1: "
             f"noisy {val['noisy']['overall']['f1']:.4f}, clean {val['clean']['overall']['f1']:.4f}")
    else:
        note(f"stopped at step {result['step']} ({result['samples_seen']:,} lines)")
    if export_to:
        checkpoint = cfg.out / "last.pt"
        if not checkpoint.exists() and resume is not None:
            checkpoint = resume
        meta = export_model(checkpoint, export_to)
        size = sum(f.stat().st_size for f in export_to.iterdir()) / 1e6
        note(f"wrote {export_to}/ ({size:.2f} MB, step {meta['step']})")


@train.command("export")
@click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def export(checkpoint: Path, out: Path) -> None:
    """Write shippable fp16 recogniser weights from a training checkpoint."""
    from ..training.recognizer import export_weights

    meta = export_weights(checkpoint, out)
    note(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, step {meta['step']})")
