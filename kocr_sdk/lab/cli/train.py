"""``kocr train``: train kocr's models on data kocr generates, resumably.

Every ``kocr train <model>`` command takes the options of :func:`run_options` — the fields every
run has (:class:`~kocr_sdk.lab.training.base.RunConfig`) — and adds its own; they are written
once, here, so that the commands cannot drift apart.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar

import click

from ...cli.common import KocrGroup, note

from ...recognition.charset import CHARSETS
from ..synth.crops import PROFILES

#: Scripts a recogniser can be trained for: a crop profile of the generator with a charset of its own.
RECOGNIZER_SCRIPTS = sorted(name for name in PROFILES if name in CHARSETS)

F = TypeVar("F", bound=Callable[..., Any])


@click.group(cls=KocrGroup)
def train() -> None:
    """Train models (recognizer, detector, ...) on synthetic data; runs resume from checkpoints."""


@dataclass(frozen=True)
class RunOptions:
    """The options every ``kocr train <model>`` command shares, as given on the command line."""

    config: Path | None
    out: Path | None
    resume: Path | None
    max_minutes: float | None
    max_steps: int | None
    export: Path | None
    device: str | None
    seed: int | None
    workers: int | None
    precision: str | None
    quiet: bool

    def load(self, cls: type, default: Callable[[], Any] | None = None, **own: Any) -> Any:
        """The run's config: the ``--config`` file (or ``default()``), with the options that were given
        laid over it (``own``: the command's own), validated — a bad value is a KocrConfigError naming
        its key — and a clear error, before any work, when ``--resume`` does not exist."""
        from ...errors import KocrConfigError
        from ...yamlio import validate_yaml_file
        from ..training.base import ConfigDeprecation

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConfigDeprecation)
            if self.config:
                cfg = validate_yaml_file(self.config, cls.model_validate, KocrConfigError, "training config")
            else:
                cfg = (default or cls)()
            cfg = cfg.with_options(out=self.out, max_minutes=self.max_minutes, max_steps=self.max_steps,
                                   device=self.device, seed=self.seed, workers=self.workers, precision=self.precision,
                                   resume=self.resume, export=self.export, progress=False if self.quiet else None,
                                   **own)
        for warning in caught:
            if issubclass(warning.category, ConfigDeprecation):
                note(f"{self.config or 'config'}: {warning.message}")
            else:
                warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
        if self.resume is not None and not self.resume.exists():
            raise KocrConfigError(f"checkpoint to resume from not found: {self.resume}")
        return cfg

    @property
    def progress(self) -> bool:
        return not self.quiet

    def exported(self, result: dict[str, Any], what: str = "") -> None:
        """Say where ``--export`` wrote the weights (when it did)."""
        meta = result.get("export")
        if meta is None or self.export is None:
            return
        path = self.export
        size = sum(f.stat().st_size for f in path.iterdir() if f.is_file()) if path.is_dir() else path.stat().st_size
        note(f"wrote {path}{'/' if path.is_dir() else ''} ({size / 1e6:.2f} MB, {what}step {meta['step']})")


def run_options(*, config_help: str = "Training config YAML.",
                resume_help: str = "Checkpoint (or exported weights: a warm start) to continue from.",
                export_help: str = "Afterwards, write shippable fp16 weights here.",
                resume_dirs: bool = False, export_dir: bool = False,
                out_help: str = "Run directory (last.pt, log.jsonl).",
                omit: tuple[str, ...] = ()) -> Callable[[F], F]:
    """The options every ``kocr train`` command takes; the command receives them as one :class:`RunOptions`
    (its first argument) and its own options as keyword arguments. ``omit`` leaves out ``resume``,
    ``export`` or ``quiet`` for a command they mean nothing to (``kocr train bundle``: None/False)."""
    options = {
        "config": click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                               help=config_help),
        "out": click.option("--out", type=click.Path(file_okay=False, path_type=Path), help=out_help),
        "resume": click.option("--resume", type=click.Path(dir_okay=resume_dirs, path_type=Path), help=resume_help),
        "max_minutes": click.option("--max-minutes", type=float, help="Stop (with a checkpoint) after this many minutes."),
        "max_steps": click.option("--max-steps", type=int,
                                  help="Stop at this global step, resumed runs included (0 with --resume: only export)."),
        "export": click.option("--export", "export_to", type=click.Path(dir_okay=export_dir, file_okay=not export_dir,
                                                                        path_type=Path), help=export_help),
        "device": click.option("--device", help="auto, cpu, cuda or cuda:N."),
        "seed": click.option("--seed", type=int, help="Seed of the model's initialisation and of the data stream."),
        "workers": click.option("--workers", type=int,
                                help="DataLoader workers making batches (0: in the training process)."),
        "precision": click.option("--precision", type=click.Choice(["fp32", "bf16"]),
                                  help="bf16: the forward pass under bfloat16 autocast (weights and optimiser stay fp32)."),
        "quiet": click.option("-q", "--quiet", is_flag=True, help="No progress bar."),
    }
    unknown = set(omit) - {"resume", "export", "quiet"}
    if unknown:
        raise ValueError(f"run_options: cannot omit {', '.join(sorted(unknown))}")
    for name in omit:
        del options[name]

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def with_run_options(config_path: Path | None, out: Path | None, max_minutes: float | None,
                             max_steps: int | None, device: str | None, seed: int | None, workers: int | None,
                             precision: str | None, resume: Path | None = None, export_to: Path | None = None,
                             quiet: bool = False, **own: Any) -> Any:
            opts = RunOptions(config_path, out, resume, max_minutes, max_steps, export_to, device, seed, workers,
                              precision, quiet)
            return command(opts, **own)

        for option in reversed(list(options.values())):
            with_run_options = option(with_run_options)
        return with_run_options  # type: ignore[return-value]

    return decorate


@train.command("recognizer")
@click.option("--script", type=click.Choice(RECOGNIZER_SCRIPTS), default="hangul", show_default=True,
              help="Which text the crops hold, and (unless the config names a charset) the charset.")
@click.option("--init-from", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Start a new run from these weights: another script's recogniser, or a SeqCLR-pre-trained encoder.")
@click.option("--unlabeled", help="SeqFixMatch on unlabelled crops: a folder of crop images, or synth:N.")
@click.option("--unlabeled-pages", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="SeqFixMatch on a folder of page images (or PDFs): kocr's detector cuts their word crops first "
                   "(into OUT/unlabeled-crops, resumably).")
@click.option("--labelled-pages", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Also train on word crops cut by kocr's own detector from generated pages (folders from "
                   "`kocr synth pages`, each with its gt.jsonl), labelled with the true words they match (into "
                   "OUT/labelled-crops, resumably); `page_crops_share` of the crops come from them.")
@click.option("--teacher", type=click.Choice(["frozen", "ema", "self"]),
              help="SeqFixMatch's teacher (overrides the config): frozen — the starting weights, never updated, "
                   "3 weak views that must agree at confidence 0.95, unlabelled loss weighted 3 (use it to adapt "
                   "trained weights); ema — a 0.999 moving average of the student; self — the student itself "
                   "(FixMatch as published).")
@run_options()
def train_recognizer(opts: RunOptions, script: str, init_from: Path | None, unlabeled: str | None,
                     unlabeled_pages: Path | None, labelled_pages: Path | None, teacher: str | None) -> None:
    """Train a column-patch ViTSTR recogniser for one script, optionally with SeqFixMatch on
    unlabelled crops (docs/training.md)."""
    from ..training import recognizer

    if unlabeled and unlabeled_pages:
        raise click.UsageError("give --unlabeled or --unlabeled-pages, not both")
    config = recognizer.RecognizerTrainConfig
    cfg = opts.load(config, lambda: config(script=script, out=Path(f"runs/recognizer-{script}")),
                    init_from=init_from, unlabeled=unlabeled)
    if (init_from and not opts.config and not opts.resume
            and recognizer.is_trained_recognizer(init_from, cfg.charset or cfg.script)):
        fine_tune = recognizer.FINE_TUNE
        cfg = cfg.model_copy(update={**fine_tune, "total_steps": opts.max_steps or fine_tune["total_steps"]})
        note(f"fine-tuning trained {cfg.script} weights: lr {cfg.lr:g}, {cfg.warmup_steps} warm-up steps, "
             f"cosine over {cfg.total_steps:,} steps (a --config file sets its own)")
    if teacher:
        if not (cfg.unlabeled or unlabeled_pages):
            raise click.UsageError("--teacher is SeqFixMatch's: give --unlabeled or --unlabeled-pages too")
        if teacher == "frozen" and not (cfg.init_from or opts.resume):
            raise click.UsageError("a frozen teacher is the weights the run starts from: give --init-from "
                                   "(trained weights) or --resume")
        cfg = cfg.model_copy(update=recognizer.TEACHERS[teacher])
    if unlabeled_pages:
        from ..training.unlabeled import crop_pages

        crops = crop_pages(unlabeled_pages, cfg.out / "unlabeled-crops", progress=opts.progress)
        cfg = cfg.model_copy(update={"unlabeled": str(crops)})
    if labelled_pages:
        from ..training.page_crops import cut_labelled_crops

        crops = cut_labelled_crops(labelled_pages, cfg.out / "labelled-crops", progress=opts.progress)
        cfg = cfg.model_copy(update={"page_crops": crops})
    if cfg.page_crops is not None:
        from ..training.page_crops import LabelledCrops

        note(f"{cfg.page_crops_share:.0%} of the labelled crops from {len(LabelledCrops(cfg.page_crops)):,} "
             f"cut from pages in {cfg.page_crops}")
    if cfg.unlabeled and not cfg.unlabeled.startswith("synth:"):
        from ..training.unlabeled import open_unlabeled

        note(f"SeqFixMatch on {len(open_unlabeled(cfg.unlabeled)):,} unlabelled crops from {cfg.unlabeled}")
    result = recognizer.train(cfg, resume=opts.resume, progress=opts.progress and cfg.progress)
    note(f"stopped at step {result['step']} ({result['samples_seen']:,} samples); validation: {result['val']}")
    opts.exported(result)


@train.command("recognizer-pretrain")
@click.option("--unlabeled", help="Unlabelled crops: a folder of crop images, or synth:N (default synth:100000).")
@run_options(config_help="Pre-training config YAML.",
             export_help="Afterwards, write the pre-trained encoder here, for `kocr train recognizer --init-from`.")
def train_recognizer_pretrain(opts: RunOptions, unlabeled: str | None) -> None:
    """Pre-train a recogniser's encoder on unlabelled crops with SeqCLR (contrastive, no labels)."""
    from ..training import seqclr

    cfg = opts.load(seqclr.PretrainConfig, unlabeled=unlabeled)
    result = seqclr.pretrain(cfg, resume=opts.resume, progress=opts.progress and cfg.progress)
    loss = f"{result['loss']:.4f}" if result["loss"] is not None else "n/a"
    note(f"stopped at step {result['step']} ({result['samples_seen']:,} crops); NT-Xent loss {loss}")
    opts.exported(result, "encoder, ")


@train.command("detector")
@run_options(config_help="Training config YAML (the package's: kocr_sdk/lab/training/configs/detector.yaml, "
                         "and craft.yaml for the CRAFT baseline).",
             export_help="Afterwards, write shippable fp16 weights here (kocr_sdk/weights/detector-anchor-free"
                         ".safetensors, or detector-craft.safetensors for arch craft-*, to ship).")
def train_detector(opts: RunOptions) -> None:
    """Train a text detector on synthetic pages: the one-shot anchor-free one, or the CRAFT
    baseline when the config's arch is craft-*."""
    from ..training import detector

    cfg = opts.load(detector.DetectorTrainConfig)
    result = detector.train(cfg, resume=opts.resume, progress=opts.progress and cfg.progress)
    note(f"stopped at step {result['step']} ({result['samples_seen']:,} samples); validation: {result['val']}")
    opts.exported(result)


@train.command("script-id")
@run_options(export_help="Afterwards, write shippable fp16 weights here (kocr_sdk/weights/script-id.safetensors "
                         "to ship).")
def train_script_id(opts: RunOptions) -> None:
    """Train the script identifier (hangul, latin, digits, han, kana, other) on synthetic crops."""
    from ..eval.script_id import format_confusion
    from ..training import script_id

    cfg = opts.load(script_id.ScriptIdTrainConfig)
    result = script_id.train(cfg, resume=opts.resume, progress=opts.progress and cfg.progress)
    val = result["val"]
    if val:
        note(f"stopped at step {result['step']} ({result['samples_seen']:,} samples); held-out accuracy: "
             f"hangul/latin/digits {val['acc_hld']:.4f}, all classes {val['acc_all']:.4f}")
        note(format_confusion(val["confusion"]))
    else:
        note(f"stopped at step {result['step']} ({result['samples_seen']:,} samples)")
    opts.exported(result)


@train.command("ner")
@run_options(resume_help="Checkpoint (or an exported model directory, e.g. the shipped weights) to continue from.",
             export_help="Afterwards, write a Hugging Face model directory here (kocr_sdk/weights/ner-char-bert "
                         "to ship).", resume_dirs=True, export_dir=True)
def train_ner(opts: RunOptions) -> None:
    """Train the character-level BERT entity recogniser on generated form lines."""
    from ..training import ner

    cfg = opts.load(ner.NerTrainConfig)
    result = ner.train(cfg, resume=opts.resume, progress=opts.progress and cfg.progress)
    val = result["val"]
    if val:
        note(f"stopped at step {result['step']} ({result['samples_seen']:,} lines); held-out entity F1: "
             f"noisy {val['noisy']['overall']['f1']:.4f}, clean {val['clean']['overall']['f1']:.4f}")
    else:
        note(f"stopped at step {result['step']} ({result['samples_seen']:,} lines)")
    opts.exported(result)


@train.command("export")
@click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def export(checkpoint: Path, out: Path) -> None:
    """Write shippable fp16 recogniser weights from a training checkpoint."""
    from ..training.recognizer import export_weights

    meta = export_weights(checkpoint, out)
    note(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, step {meta['step']})")


# The models a bundle can train (kocr_sdk.lab.bundle.pack.MODELS; listed here so --help needs no import of it).
BUNDLE_MODELS = ("recognizer", "recognizer-pretrain", "script-id")


@train.command("bundle")
@click.argument("model", type=click.Choice(BUNDLE_MODELS))
@click.option("--script", type=click.Choice(RECOGNIZER_SCRIPTS),
              help="recognizer, recognizer-pretrain: the script, when no --config says (default hangul).")
@click.option("--max-mib", type=float, default=64.0, show_default=True,
              help="The bundle's size limit; the fonts get what the rest leaves.")
@click.option("--python-version", default="3.11", show_default=True,
              help="The GPU machine's Python (the wheels are built for it).")
@click.option("--platform", "wheel_platform", default="manylinux2014_x86_64", show_default=True,
              help="The GPU machine's wheel platform.")
@click.option("--wheels-from", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Take the wheels only from this folder (pip --find-links), not from the package index.")
@click.option("--refresh-wheels", is_flag=True, help="Resolve the wheels again instead of reusing the last pack's.")
@click.option("--no-wheels", is_flag=True, help="Pack no wheels: the GPU machine already has kocr's requirements.")
@run_options(config_help="The run's config YAML (packed as the bundle's config.yaml; the options below are laid "
                         "over it).", out_help="The bundle folder to write (a new or empty one).",
             omit=("resume", "export", "quiet"))
def train_bundle(opts: RunOptions, model: str, script: str | None, max_mib: float, python_version: str,
                 wheel_platform: str, wheels_from: Path | None, refresh_wheels: bool, no_wheels: bool) -> None:
    """Pack a training run into one folder for a GPU machine with no network and no fonts: the kocr
    source, the wheels a machine with torch lacks, the run's fonts (subset), the word and name
    lists, the config and run.py, which trains from it (docs/training.md)."""
    from ..bundle.pack import MODELS, pack, size_report

    if opts.out is None:
        raise click.UsageError("give --out, the bundle folder to write")
    kind = MODELS[model]
    cls = kind.config_class()
    if script is not None and "script" not in cls.model_fields:
        raise click.UsageError(f"--script is not an option of {model}")
    own = {"script": script} if script is not None else {}
    cfg = opts.load(cls, lambda: cls(**({"script": script or "hangul"} if "script" in cls.model_fields else {})),
                    **own)
    manifest = pack(model, cfg, opts.out, max_bytes=int(max_mib * 2**20), python_version=python_version,
                    platform=wheel_platform, wheels_from=wheels_from, refresh_wheels=refresh_wheels,
                    with_wheels=not no_wheels, progress=note)
    for line in size_report(manifest).splitlines():
        note(line)
    note(f"copy {opts.out}/ to the GPU machine and run: python {opts.out.name}/run.py --out OUTDIR --device cuda")
