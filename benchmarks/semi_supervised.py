"""The semi-supervised experiments: what unlabelled crops buy a recogniser (SeqCLR, SeqFixMatch).

    python benchmarks/semi_supervised.py --arms pretrain,a,b,c      # the low-label regime
    python benchmarks/semi_supervised.py --arms d,e                 # adapting to a new domain
    python benchmarks/semi_supervised.py --report                   # table + JSON from finished arms
    python benchmarks/semi_supervised.py --report --figure curves.png --figure-arms a-supervised,b-seqclr

**Low-label regime.** The tiny ``hangul`` recogniser learns from ``--labeled`` (5,000) labelled
synthetic crops — the first 5,000 of the training stream, repeated — and ``--unlabeled``
(100,000) unlabelled crops from the generator under another seed:

- (a) supervised only, ``--steps`` steps from scratch;
- pretrain: SeqCLR on the unlabelled crops, ``--pretrain-steps`` steps (window-to-instance);
- (b) the same ``--steps`` supervised steps, from the pre-trained encoder;
- (c) (b) plus SeqFixMatch on the unlabelled crops in every step.

**Domain shift.** The shipped ``hangul`` weights; labelled crops with the generator's usual
degradations; unlabelled crops and the validation crops with *heavy blur* (σ 1.8–2.8 px on every
crop, beyond the training pipeline's 0.3–1.3 on 30 % of them):

- (d) ``--shift-steps`` more supervised steps;
- (e) the same steps plus SeqFixMatch on the blurred unlabelled crops;
- (f) the ceiling: the same steps with the shifted domain's crops *labelled* (the labelled stream
  in the shifted domain) — what labels would recover, against which (e)'s gain is measured.

``--domain paper`` shifts to dirty, unevenly lit paper instead (blotches, grain, specks, a shadow on
every crop), and takes paper texture and lighting out of the labelled stream of both arms, so the
shifted domain is one the labelled crops lack entirely (the blur domain's labelled crops do have
some mild blur). ``--domain fax`` shifts to a low-resolution black-and-white scan of every crop
(:class:`~kocr_sdk.lab.synth.degrade.Fax`, added to the generator after the shipped recogniser was
trained, so its start weights never saw it) and takes every thresholding out of the labelled stream.

Every arm is validated on ``--val-size`` crops in held-out fonts under a seed no training uses.
Each arm runs in its own directory under ``--out`` and resumes from its checkpoint if stopped;
finished arms are skipped. One torch thread and one rendering worker per arm: run the two
groups side by side on a 2-core machine. Compute per arm is reported (steps, crops, minutes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import Field

from kocr_sdk.lab.training.recognizer import CropStream, RecognizerTrainConfig, RecognizerTrainer, validation_set
from kocr_sdk.lab.training.views import strong_view

RESULTS = Path(__file__).parent / "results" / "semi_supervised.json"


class ExperimentConfig(RecognizerTrainConfig):
    """A recogniser run with the knobs only these experiments turn (the product's config has none of them)."""

    labeled_size: int | None = Field(
        None, ge=1, description="Use only the first N crops of the labelled stream, over and over (low-label runs).")
    val_data: dict[str, Any] | None = Field(
        None, description="Generator options for the validation crops (default: `data`); e.g. a degradation the "
        "labelled crops lack, to measure adaptation to it.")
    unlabeled_data: dict[str, Any] = Field(default_factory=dict, description="Generator options for synth:N.")
    unlabeled_data_start: dict[str, Any] | None = Field(
        None, description="A curriculum for synth:N: generator options of an easier domain (e.g. mild blur) the "
        "unlabelled crops start from; their share falls linearly from 1 to 0 over `unlabeled_curriculum` crops, "
        "so the teacher meets the hard domain once the student has learnt the easier one.")
    unlabeled_curriculum: int = Field(0, ge=0, description="Unlabelled crops over which the curriculum runs.")
    unlabeled_rampup: int = Field(
        0, ge=0, description="Steps over which λ_u rises linearly from 0 (counted from the run's first FixMatch step).")
    strong_ops: int = Field(2, ge=1, description="RandAugment operations in the strong view.")
    strong_magnitude: float = Field(1.0, ge=0, le=1, description="Their strength, at most.")

    def strong_view(self):
        return partial(strong_view, n=self.strong_ops, magnitude=self.strong_magnitude, operations=self.strong_operations)


class LowLabelCrops(CropStream):
    """The labelled stream of a low-label arm: the first ``labeled_size`` crops, over and over."""

    def sample_index(self, index: int) -> int:
        size = self.cfg.labeled_size
        return index if size is None else index % size


class ExperimentTrainer(RecognizerTrainer):
    """The recogniser's trainer, with :class:`ExperimentConfig`'s knobs applied."""

    cfg: ExperimentConfig

    def labelled_stream(self, start: int) -> CropStream:
        return LowLabelCrops(self.cfg, self.charset, start, self.strong())

    def validation_data(self) -> list:
        return validation_set(self.cfg, self.charset, self.cfg.val_data)

    def unlabeled_source(self):
        from kocr_sdk.lab.training.unlabeled import open_unlabeled

        cfg = self.cfg
        return open_unlabeled(cfg.unlabeled, profile=cfg.script, data=cfg.unlabeled_data, seed=cfg.unlabeled_seed,
                              start_data=cfg.unlabeled_data_start, ramp=cfg.unlabeled_curriculum)

    def unlabeled_weight_at(self, step: int) -> float:
        cfg = self.cfg
        ramp = min(1.0, (step - self.first_step + 1) / cfg.unlabeled_rampup) if cfg.unlabeled_rampup else 1.0
        return cfg.unlabeled_weight * ramp


def train_arm(cfg: ExperimentConfig, resume: Path | None = None, progress: bool | None = None) -> dict:
    """Train (or continue) one recogniser arm; what ``kocr_sdk.lab.training.recognizer.train`` returns."""
    return ExperimentTrainer(cfg, resume, progress).fit()


def heavy_blur(sigma: tuple[float, float] = (1.8, 2.8)) -> dict:
    """The usual crop degradations, with every crop blurred hard (the shifted domain)."""
    from kocr_sdk.lab.synth.degrade import Blur, crop_pipeline

    pipe = crop_pipeline()
    pipe.image = [op for op in pipe.image if not isinstance(op, Blur)] + [Blur(prob=1.0, sigma=sigma, motion_prob=0.0)]
    return {"degrade": pipe.model_dump(mode="json")}


def mild_blur() -> dict:
    """The curriculum's starting domain: every crop blurred, but at about half the shifted σ."""
    return heavy_blur((0.8, 1.4))


def _on_paper(*ops) -> dict:
    """The usual crop degradations with their paper texture and lighting replaced by ``ops``."""
    from kocr_sdk.lab.synth.degrade import Lighting, PaperTexture, crop_pipeline

    pipe = crop_pipeline()
    pipe.image = list(ops) + [op for op in pipe.image if not isinstance(op, (PaperTexture, Lighting))]
    return {"degrade": pipe.model_dump(mode="json")}


def heavy_paper() -> dict:
    """Dirty, unevenly lit paper: blotches, grain, specks and a light gradient on every crop, a
    shadow on 40 % (the labelled stream of the paper arms has none of it, see :func:`no_paper`)."""
    from kocr_sdk.lab.synth.degrade import Lighting, PaperTexture

    return _on_paper(PaperTexture(prob=1.0, blotch=(0.15, 0.35), grain=(0.05, 0.12), specks=(0.0005, 0.002)),
                     Lighting(prob=1.0, gradient=(0.2, 0.45), shadow_prob=0.4, shadow=(0.45, 0.75), crease_prob=0.2))


def mild_paper() -> dict:
    """The paper curriculum's starting domain: the same ops at about half their strength."""
    from kocr_sdk.lab.synth.degrade import Lighting, PaperTexture

    return _on_paper(PaperTexture(prob=1.0, blotch=(0.05, 0.15), grain=(0.02, 0.06), specks=(0.0, 0.0005)),
                     Lighting(prob=1.0, gradient=(0.05, 0.2), shadow_prob=0.2, shadow=(0.7, 0.9), crease_prob=0.05))


def no_paper() -> dict:
    """The labelled stream of the paper arms: no paper texture or lighting at all, so that the
    shifted domain is one the labelled crops lack entirely."""
    return _on_paper()


def _faxed(fax) -> dict:
    """The usual crop degradations without any thresholding, then ``fax`` (if any) last."""
    from kocr_sdk.lab.synth.degrade import Binarize, crop_pipeline

    pipe = crop_pipeline()
    pipe.image = [op for op in pipe.image if not isinstance(op, Binarize)] + ([fax] if fax is not None else [])
    return {"degrade": pipe.model_dump(mode="json")}


def heavy_fax() -> dict:
    """A low-resolution black-and-white scan of every crop (:class:`~kocr_sdk.lab.synth.degrade.Fax`,
    thresholded at 40–65 % of the crop's size): a degradation no shipped recogniser trained on
    (it was added to the generator after them), and which the labelled stream of the fax arms
    lacks entirely, thresholding included (:func:`no_fax`)."""
    from kocr_sdk.lab.synth.degrade import Fax

    return _faxed(Fax(prob=1.0, scale=(0.4, 0.65)))


def mild_fax() -> dict:
    """The fax curriculum's starting domain: thresholded at nearly the crop's own size."""
    from kocr_sdk.lab.synth.degrade import Fax

    return _faxed(Fax(prob=1.0, scale=(0.75, 0.95), speckle=(0.0, 0.0005)))


def no_fax() -> dict:
    """The labelled stream of the fax arms: the usual degradations less :class:`Binarize`."""
    return _faxed(None)


# domain -> (the shifted domain, the curriculum's start, the labelled stream's generator options)
DOMAINS = {"blur": (heavy_blur, mild_blur, dict), "paper": (heavy_paper, mild_paper, no_paper),
           "fax": (heavy_fax, mild_fax, no_fax)}


def weights_sha256(path: Path) -> str:
    """A short content hash of a weights file. Arms name what they started from by it, not by path:
    the shipped file's content changes under the same path whenever new weights ship."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def check_start(out: Path, weights: Path | None) -> str | None:
    """Refuse to reuse or resume the arm in ``out`` if it started from other weights than ``weights``.

    The first start writes ``out/start.sha256``; a later run compares against it. An arm from
    before the marker existed cannot be checked and says so (on stderr) instead of guessing."""
    if weights is None:
        return None
    sha = weights_sha256(weights)
    marker = out / "start.sha256"
    if marker.exists():
        had = marker.read_text().strip()
        if had != sha:
            raise SystemExit(f"{out} started from weights {had}, not from {weights} ({sha}): its results would "
                             "be mixed with another start's. Give this start a new --tag.")
    elif (out / "result.json").exists() or (out / "last.pt").exists():
        print(f"note: {out} predates start-weight hashes; cannot check that it started from {weights}",
              file=sys.stderr)
    else:
        out.mkdir(parents=True, exist_ok=True)
        marker.write_text(sha + "\n")
    return sha


def logged_minutes(log: Path) -> float:
    """Training minutes behind an arm's last logged step, over all its resumed segments. Each resume
    restarts the log's clock; of a segment that was cut, only the steps up to where the next one
    resumed count (what ran past its last checkpoint was lost)."""
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    segments: list[list[tuple[int, float]]] = []
    for row in rows:
        if "minutes" not in row:
            continue
        point = (row["step"], row["minutes"])
        if not segments or point[1] < segments[-1][-1][1]:
            segments.append([])
        segments[-1].append(point)
    total = 0.0
    for seg, following in zip(segments, segments[1:]):
        total += max((m for step, m in seg if step < following[0][0]), default=0.0)
    return round(total + (segments[-1][-1][1] if segments else 0.0), 1)


def _recognizer_arm(name: str, args, **kw) -> dict:
    out = args.out / name
    done = out / "result.json"
    sha = check_start(out, kw.get("init_from"))
    if done.exists():
        return json.loads(done.read_text())
    cfg = ExperimentConfig(script="hangul", batch_size=64, warmup_steps=kw.pop("warmup", 200), val_size=args.val_size,
                                log_every=25, threads=1, workers=1, out=out, precision=args.precision, **views(args), **kw)
    resume = out / "last.pt" if (out / "last.pt").exists() else None
    t0 = time.time()
    result = train_arm(cfg, resume=resume, progress=not args.quiet)
    record = {"arm": name, "step": result["step"], "labelled_crops_seen": result["samples_seen"],
              "minutes": logged_minutes(out / "log.jsonl") if resume else round((time.time() - t0) / 60, 1),
              "val": result["val"], "config": cfg.model_dump(mode="json", exclude={"out"}), "start_sha256": sha}
    done.write_text(json.dumps(record, ensure_ascii=False, indent=1))
    return record


def views(args) -> dict:
    """Every recogniser arm's strong-view options (SeqFixMatch's, and ``--labeled-augment``'s)."""
    out = dict(strong_ops=args.strong_ops, strong_magnitude=args.strong_magnitude, labeled_augment=args.labeled_augment)
    if args.strong_set:
        out["strong_operations"] = [name.strip() for name in args.strong_set.split(",")]
    return out


def run_pretrain(args) -> Path:
    from kocr_sdk.lab.training.seqclr import PretrainConfig, export_encoder, pretrain

    tag = args.tag if args.pretrain_tag is None else args.pretrain_tag
    out = args.out / ("pretrain" + tag)
    encoder = out / "encoder.safetensors"
    for done in (encoder, out / "encoder.pt"):  # encoder.pt: exported by an earlier version (read weights-only)
        if done.exists():
            return done
    cfg = PretrainConfig(unlabeled=f"synth:{args.unlabeled}", max_steps=args.pretrain_steps,
                         total_steps=args.pretrain_steps, warmup_steps=100, out=out, threads=1, workers=1,
                         precision=args.precision)
    t0 = time.time()
    result = pretrain(cfg, resume=out / "last.pt" if (out / "last.pt").exists() else None, progress=not args.quiet)
    export_encoder(out / "last.pt", encoder)
    (out / "result.json").write_text(json.dumps({"arm": "pretrain" + tag, **result, "minutes": round((time.time() - t0) / 60, 1),
                                                 "config": cfg.model_dump(mode="json", exclude={"out"})}, indent=1))
    return encoder


def shipped_hangul(start: Path | None = None) -> Path:
    """Where arms d–f start: ``start`` (``--start-weights``), else the shipped ``hangul`` weights —
    which change when new ones ship, so a rerun of an old figure names its file."""
    from kocr_sdk.recognition.stage import WEIGHTS_DIR

    return Path(start) if start else WEIGHTS_DIR / "vitstr-tiny-hangul.safetensors"


def hangul_from(weights: Path):
    """A tiny ``hangul`` recogniser with ``weights`` (e.g. the shipped ones), and its charset."""
    from kocr_sdk.recognition.architectures import create_model
    from kocr_sdk.recognition.charset import CHARSETS
    from kocr_sdk.lab.training.recognizer import init_from_weights

    charset = CHARSETS["hangul"]()
    model = create_model("vitstr-tiny", len(charset))
    init_from_weights(model, charset, weights)
    return model, charset


def domain_crops(domain: str, n: int, charset, clean: bool = False, seed: int | None = None) -> list:
    """``n`` validation crops of ``domain`` in held-out fonts — shifted, or with ``clean`` the same
    texts under the domain's labelled-stream degradations. Every figure that compares with the
    start row (``d0-shift-start``'s ``val`` / ``val_normal``) reads these, so they are built here only.
    ``seed``: other crops than the validation seed's — a confirmation set that choosing between
    variants never looked at."""
    shifted, _, labelled = DOMAINS[domain]
    cfg = RecognizerTrainConfig(val_size=n, **({"val_seed": seed} if seed is not None else {}))
    return validation_set(cfg, charset, labelled() if clean else shifted())


def shift_baseline(args, weights: Path) -> dict:
    """The starting point of arms d and e: the weights as they are, on normal and on shifted crops."""
    from kocr_sdk.lab.training.recognizer import evaluate

    name = "d0-shift-start" + _domain_suffix(args) + args.tag  # tagged: a variant may change --val-size
    done = args.out / name / "result.json"
    sha = check_start(done.parent, weights)
    if done.exists():
        return json.loads(done.read_text())
    model, charset = hangul_from(weights)
    record = {"arm": name, "step": 0, "minutes": 0.0, "weights": str(weights), "start_sha256": sha,
              "val": evaluate(model, charset, domain_crops(args.domain, args.val_size, charset)),
              "val_normal": evaluate(model, charset, domain_crops(args.domain, args.val_size, charset, clean=True))}
    done.parent.mkdir(parents=True, exist_ok=True)
    done.write_text(json.dumps(record, ensure_ascii=False, indent=1))
    return record


def _domain_suffix(args) -> str:
    """Blur was the first shifted domain, and its arms kept their plain names."""
    return "" if args.domain == "blur" else f"-{args.domain}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arms", default="pretrain,a,b,c", help="Comma-separated: pretrain, a, b, c, d, e, f.")
    ap.add_argument("--out", type=Path, default=Path("runs/semi"))
    ap.add_argument("--labeled", type=int, default=5000)
    ap.add_argument("--unlabeled", type=int, default=100_000)
    ap.add_argument("--steps", type=int, default=1000, help="Supervised steps of arms a, b, c.")
    ap.add_argument("--pretrain-steps", type=int, default=600)
    ap.add_argument("--shift-steps", type=int, default=500, help="Steps of arms d and e.")
    ap.add_argument("--shift-lr", type=float, default=3e-4,
                    help="Peak learning rate of arms d and e (the shipped weights finished near 6e-5).")
    ap.add_argument("--start-weights", type=Path, default=None,
                    help="Hangul weights arms d-f start from, and what 'shipped' names in --paired (default: the shipped "
                    "file). Earlier figures started from the step-19,023 weights: git show "
                    "65f1670:kocr_sdk/weights/vitstr-tiny-hangul.pt > /tmp/hangul-19023.pt, then --start-weights it.")
    ap.add_argument("--domain", choices=sorted(DOMAINS), default="blur",
                    help="Arms d and e: the shifted domain (blur: heavy blur; paper: dirty, unevenly lit paper, which "
                         "the labelled stream of these arms lacks entirely; fax: a low-resolution black-and-white scan, which "
                         "no shipped recogniser trained on and the labelled stream lacks, thresholding included).")
    ap.add_argument("--val-size", type=int, default=1000)
    ap.add_argument("--val-seed", type=int, default=None,
                    help="--paired: read fresh crops of --domain from this seed instead of the validation seed's, "
                         "to confirm a variant chosen on the validation crops.")
    ap.add_argument("--threshold", type=float, default=0.9, help="SeqFixMatch pseudo-label confidence.")
    ap.add_argument("--strong-ops", type=int, default=2, help="SeqFixMatch: RandAugment operations in the strong view.")
    ap.add_argument("--strong-magnitude", type=float, default=1.0, help="SeqFixMatch: their strength, at most.")
    ap.add_argument("--unlabeled-weight", type=float, default=1.0, help="SeqFixMatch: λ_u.")
    ap.add_argument("--strong-set", help="SeqFixMatch: comma-separated operations the strong view draws from "
                    "(kocr_sdk.lab.training.views.OPERATIONS; default: all but binarize).")
    ap.add_argument("--labeled-augment", type=float, default=0.0,
                    help="Share of labelled crops that get a strong view too (the control for a strong-view operation).")
    ap.add_argument("--teacher-ema", type=float, help="SeqFixMatch: read weak views with an EMA teacher of this decay.")
    ap.add_argument("--teacher-views", type=int, default=1,
                    help="SeqFixMatch: weak views the teacher reads; a pseudo-label needs all of them to agree.")
    ap.add_argument("--rampup", type=int, default=0, help="SeqFixMatch: steps over which λ_u rises from 0.")
    ap.add_argument("--curriculum", type=int, default=0,
                    help="SeqFixMatch (arm e): unlabelled crops over which the shift grows from mild (half strength) to full.")
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                    help="Recogniser arms' forward pass (bf16: ~1.45x the steps a second on CPUs with AMX; "
                         "docs/training.md). Compare arms of one precision.")
    ap.add_argument("--tag", default="", help="Suffix of the arm directories (a variant of the same arms).")
    ap.add_argument("--pretrain-tag", help="Arms b and c: start from the pre-training of this tag (default: --tag), "
                    "so a variant of (c) reuses a finished pre-training instead of repeating it.")
    ap.add_argument("--report", action="store_true", help="Only collect finished arms into the table and JSON.")
    ap.add_argument("--figure", type=Path, help="With the report: draw the validation curves of --figure-arms here.")
    ap.add_argument("--figure-arms", default="a-supervised,b-seqclr,c-seqclr-fixmatch",
                    help="Comma-separated arm names (directory names under --out) for --figure.")
    ap.add_argument("--paired", help="FIRST,SECOND: two finished arms on the first's validation crops, paired "
                    "(difference and 95 %% bootstrap interval); written to results/semi_supervised_paired.json. "
                    "Either may be 'shipped' (--start-weights, default the shipped hangul file) or a hangul "
                    ".safetensors/.pt file: then both read the --domain's own --val-size crops (shifted, or clean with --clean).")
    ap.add_argument("--clean", action="store_true",
                    help="With --paired: read the --domain's *clean* validation crops (its labelled stream's "
                    "degradations, --val-size crops) instead of the first arm's — what adapting to the shifted "
                    "domain cost on the crops the weights read before. 'shipped' names the shipped hangul weights.")
    ap.add_argument("--confidence", help="ARM[,ARM]: finished arms' acceptance and pseudo-label accuracy at several "
                    "thresholds, on their validation crops (results/semi_supervised_confidence.json).")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    if args.confidence:
        _keep_rows("semi_supervised_confidence.json", [confidence(args, a.strip()) for a in args.confidence.split(",")],
                   key="arm")
        return
    if args.paired:
        first, second = [a.strip() for a in args.paired.split(",")]
        _keep_rows("semi_supervised_paired.json", [paired(args, first, second)], key=("arms", "crops"))
        return
    arms = [] if args.report else [a.strip() for a in args.arms.split(",") if a.strip()]
    low = dict(labeled_size=args.labeled, max_steps=args.steps, total_steps=args.steps, val_every=max(args.steps // 4, 1),
               lr=1e-3)
    fixmatch = dict(pseudo_threshold=args.threshold, unlabeled_weight=args.unlabeled_weight, teacher_ema=args.teacher_ema,
                    teacher_views=args.teacher_views, unlabeled_rampup=args.rampup)
    unlabeled = dict(unlabeled=f"synth:{args.unlabeled}", **fixmatch)
    tag = args.tag
    for arm in arms:
        if arm == "pretrain":
            run_pretrain(args)
        elif arm == "a":
            _recognizer_arm("a-supervised" + tag, args, **low)
        elif arm == "b":
            _recognizer_arm("b-seqclr" + tag, args, init_from=run_pretrain(args), **low)
        elif arm == "c":
            _recognizer_arm("c-seqclr-fixmatch" + tag, args, init_from=run_pretrain(args), **low, **unlabeled)
        elif arm in ("d", "e", "f"):
            shipped = shipped_hangul(args.start_weights)
            shift_baseline(args, shipped)
            shifted, start, labelled = DOMAINS[args.domain]
            shift = dict(init_from=shipped, max_steps=args.shift_steps, total_steps=args.shift_steps, warmup=100,
                         lr=args.shift_lr, val_every=max(args.shift_steps // 4, 1), data=labelled(), val_data=shifted())
            suffix = _domain_suffix(args) + tag
            if arm == "d":
                _recognizer_arm("d-shift-supervised" + suffix, args, **shift)
            elif arm == "f":
                _recognizer_arm("f-shift-labelled" + suffix, args, **{**shift, "data": shifted()})
            else:
                curriculum = dict(unlabeled_data_start=start(), unlabeled_curriculum=args.curriculum) \
                    if args.curriculum else {}
                _recognizer_arm("e-shift-fixmatch" + suffix, args, **shift, unlabeled=f"synth:{args.unlabeled}",
                                unlabeled_data=shifted(), **fixmatch, **curriculum)
        else:
            raise SystemExit(f"unknown arm {arm!r}")
    report(args)


def _keep_rows(name: str, records: list[dict], key: str | tuple[str, ...]) -> None:
    """Add ``records`` to the results file ``name`` beside ``RESULTS``, replacing rows with the same
    ``key`` (a field, or several; a field a row lacks counts as None)."""
    path = RESULTS.with_name(name)
    fields = (key,) if isinstance(key, str) else key

    def ident(row: dict) -> str:
        return json.dumps([row.get(f) for f in fields])

    new = {ident(r) for r in records}
    kept = [r for r in (json.loads(path.read_text()) if path.exists() else []) if ident(r) not in new]
    path.write_text(json.dumps(kept + records, ensure_ascii=False, indent=1))


def _with_curve(result_path: Path) -> dict:
    """An arm's result, with its validation curve from the run's log: [step, word acc, CER] rows."""
    record = json.loads(result_path.read_text())
    log = result_path.parent / "log.jsonl"
    if log.exists():
        rows = [json.loads(line) for line in log.read_text().splitlines() if '"val"' in line]
        record["curve"] = [[r["step"], r["val"]["all"]["word_acc"], round(r["val"]["all"]["cer"], 4)] for r in rows]
    return record


def _finished_arm(args, arm: str, crops: bool = True):
    """A finished arm's last weights, its charset and (``crops``) its validation crops, rebuilt from
    the config it saved — so the crops are exactly those its log scored."""
    from kocr_sdk.recognition.architectures import create_model
    from kocr_sdk.recognition.charset import CHARSETS
    from kocr_sdk.weights_file import read_checkpoint

    cfg = ExperimentConfig(**json.loads((args.out / arm / "result.json").read_text())["config"])
    charset = CHARSETS[cfg.script]()
    model = create_model(cfg.arch, len(charset))
    model.load_state_dict(read_checkpoint(args.out / arm / "last.pt")["model"])  # weights only: never code
    return model, charset, validation_set(cfg, charset, cfg.val_data) if crops else None


def _is_weights(arm: str) -> bool:
    """``shipped`` or a weights file: a recogniser that is not one of this benchmark's arms (e.g.
    a candidate for the shipped weights), which has no validation crops of its own."""
    return arm == "shipped" or arm.endswith((".safetensors", ".pt"))


def _arm_weights(args, arm: str):
    """A finished arm's model and charset — or the hangul weights ``arm`` names: ``shipped`` (where
    arms d–f start) or a ``.safetensors`` (or older ``.pt``) file."""
    if _is_weights(arm):
        return hangul_from(shipped_hangul(args.start_weights) if arm == "shipped" else Path(arm))
    model, charset, _ = _finished_arm(args, arm, crops=False)
    return model, charset


def paired(args, first: str, second: str, resamples: int = 2000) -> dict:
    """Two finished arms read the *same* validation crops (the first arm's; with ``--clean``, or when
    either is ``shipped`` or a weights file, the domain's own shifted or clean ones): the difference
    in word accuracy and CER with a 95 % bootstrap interval over crops. Paired, so it is far tighter
    than the two arms' own intervals — what tells a one-point gain from noise."""
    import numpy as np
    from rapidfuzz.distance import Levenshtein

    from kocr_sdk.lab.training.recognizer import predict

    own = not (args.clean or args.val_seed is not None or _is_weights(first) or _is_weights(second))
    if not own:  # else: the first arm's own validation crops
        (model, charset), (other, _) = _arm_weights(args, first), _arm_weights(args, second)
        models = {first: model, second: other}
        data = domain_crops(args.domain, args.val_size, charset, clean=args.clean, seed=args.val_seed)
    else:
        model, charset, data = _finished_arm(args, first)
        models = {first: model, second: _finished_arm(args, second, crops=False)[0]}
    truth = [gt for _, gt, _ in data]
    chars = np.array([len(gt) for gt in truth], dtype=float)
    scores = {}
    for arm, model in models.items():
        preds = [text for text, _, _ in predict(model, charset, data)]
        scores[arm] = (np.array([p == g for p, g in zip(preds, truth)], dtype=float),
                       np.array([Levenshtein.distance(g, p) for p, g in zip(preds, truth)], dtype=float))
    (c1, e1), (c2, e2) = scores[first], scores[second]
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(data), size=(resamples, len(data)))
    acc_diff = (c2[picks] - c1[picks]).mean(axis=1)
    cer_diff = (e2[picks].sum(axis=1) - e1[picks].sum(axis=1)) / chars[picks].sum(axis=1)
    crops = None if own else f"{'clean-' if args.clean else ''}{args.domain}" + (
        f"-seed{args.val_seed}" if args.val_seed is not None else "")
    record = {"arms": [first, second], "crops": crops, "n": len(data),
              "word_acc": [float(c1.mean()), float(c2.mean())], "cer": [float(e1.sum() / chars.sum()), float(e2.sum() / chars.sum())],
              "word_acc_diff": float(c2.mean() - c1.mean()), "word_acc_diff_95": np.percentile(acc_diff, [2.5, 97.5]).tolist(),
              "cer_diff": float((e2.sum() - e1.sum()) / chars.sum()), "cer_diff_95": np.percentile(cer_diff, [2.5, 97.5]).tolist(),
              "only_first_right": int(((c1 == 1) & (c2 == 0)).sum()), "only_second_right": int(((c1 == 0) & (c2 == 1)).sum())}
    print(json.dumps(record, indent=1))
    return record


def confidence(args, arm: str, thresholds=(0.8, 0.9, 0.95, 0.97, 0.99), views: int = 4) -> dict:
    """How trustworthy a finished arm's confidences are as SeqFixMatch's filter: on its validation
    crops, for each threshold, the share of readings whose every character is that sure and how
    many of those are right — the acceptance and pseudo-label accuracy a teacher with these
    weights would have — and the same when ``views`` weak views of the crop must also read the
    same text (a teacher that votes over test-time augmentations)."""
    import numpy as np

    from kocr_sdk.lab.training.recognizer import predict
    from kocr_sdk.lab.training.views import weak_view

    model, charset, data = _finished_arm(args, arm)
    readings = predict(model, charset, data)
    sure_a = np.array([conf for _, conf, _ in readings])  # the word confidence: its least sure character
    right_a = np.array([text == gt for (text, _, _), (_, gt, _) in zip(readings, data)])
    agree = np.ones(len(data), dtype=bool)
    for k in range(views):
        seen = predict(model, charset, [(weak_view(x, np.random.default_rng([k, i])), gt, kind)
                                        for i, (x, gt, kind) in enumerate(data)])
        agree &= np.array([text == base for (text, _, _), (base, _, _) in zip(seen, readings)])

    def kept(mask):
        return {"accepted": float(mask.mean()), "correct": float(right_a[mask].mean()) if mask.any() else None}

    record = {"arm": arm, "n": len(data), "word_acc": float(right_a.mean()), "views": views,
              "by_threshold": {str(t): kept(sure_a >= t) for t in thresholds},
              "by_threshold_views_agree": {str(t): kept((sure_a >= t) & agree) for t in thresholds}}
    print(json.dumps(record, indent=1))
    return record


def figure(rows: list[dict], arms: list[str], out: Path) -> None:
    """Validation CER and word accuracy against step, one line per arm (needs matplotlib: pip install kocr[plots])."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_arm = {r["arm"]: r for r in rows}
    missing = [a for a in arms if not by_arm.get(a, {}).get("curve") and not by_arm.get(a, {}).get("val")]
    if missing:
        raise SystemExit(f"no results for {', '.join(missing)} (finished arms: {', '.join(by_arm)})")
    fig, (ax_cer, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.8))
    for arm in arms:
        if not by_arm[arm].get("curve"):  # a starting point (d0-shift-start…): a level line
            val = by_arm[arm]["val"]["all"]
            ax_cer.axhline(val["cer"], color="grey", linestyle="--", label=arm)
            ax_acc.axhline(val["word_acc"], color="grey", linestyle="--", label=arm)
            continue
        steps, acc, cer = zip(*by_arm[arm]["curve"])
        ax_cer.plot(steps, cer, marker="o", label=arm)
        ax_acc.plot(steps, acc, marker="o", label=arm)
    ax_cer.set(xlabel="supervised step", ylabel="CER (held-out fonts)", title="character error rate")
    ax_acc.set(xlabel="supervised step", ylabel="word accuracy", title="word accuracy")
    for ax in (ax_cer, ax_acc):
        ax.grid(alpha=0.3)
    ax_acc.legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    print("wrote", out)


def report(args) -> None:
    found = [_with_curve(path) for path in sorted(args.out.glob("*/result.json"))]
    if not found:
        print("no finished arms under", args.out)
        return
    # Arms finished in earlier runs stay in the results: runs/ may not outlive a machine, so
    # a report of this run's arms alone would drop them. A rerun arm replaces its old row.
    by_arm = {r["arm"]: r for r in (json.loads(RESULTS.read_text()) if RESULTS.exists() else [])}
    by_arm.update({r["arm"]: r for r in found})
    rows = list(by_arm.values())
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(rows, ensure_ascii=False, indent=1))
    print("| arm | steps | minutes | word acc | CER |")
    print("|---|---|---|---|---|")
    for r in rows:
        val = (r.get("val") or {}).get("all")
        acc = f"{val['word_acc']:.3f}" if val else "–"
        cer = f"{val['cer']:.3f}" if val else "–"
        print(f"| {r['arm']} | {r['step']} | {r['minutes']} | {acc} | {cer} |")
    print(f"\nwrote {RESULTS}")
    if args.figure:
        figure(rows, [a.strip() for a in args.figure_arms.split(",")], args.figure)


if __name__ == "__main__":
    main()
