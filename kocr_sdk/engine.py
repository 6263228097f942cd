"""The engine: runs kocr's pipeline over page images and returns a Document.

    image → detection → script identification → recognition (grouped by script, batched per
    recogniser) → clustering → NER → template matching → post-processing hooks → Page

Clustering runs before NER (the talk kocr follows draws them the other way round): NER reads text line by
line in reading order, which is what clustering produces, while the DBSCAN clusterer uses only
boxes and no entities. Template matching, which uses both, comes after both.

Each stage is whatever implementation the plugins registered and the config chose. A stage with
no implementation is recorded on the page as ``missing`` with the reason, and the pipeline goes
on with what it has: kocr never invents a result for a stage it cannot run.
"""

from __future__ import annotations

import difflib
import importlib.util
import os
import sys
import threading
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Literal

import numpy as np
from PIL import Image

from . import __version__, orientation
from .config import STAGE_CHOICE, EngineConfig, resolve_device, resolve_runtime
from .document import Char, Document, FailedInput, Page, Rectification, StageRecord, Word
from .errors import KocrConfigError, KocrError, KocrInputError, KocrStageError
from .geometry import Quad, crop_quad, neighbour_quads, reading_orientation, scale_quad, turn_upright, warp_homography
from .interfaces import DetectedChar, DetectedWord, Detection, Reading, ScriptPrediction, Stage
from .io import PageImage, iter_pages
from .io.images import count_pages, expand_inputs
from .plugins import Registration, Registry, collect, create_plugin_manager
from .script_id.page_prior import adapt_to_page
from .vocabulary.scripts import has_script, script_of
from .recognition import choice
from .recognition.spaces import split_spaced_words
from .templates import Template, discover_templates, load_template

STAGES = ("rectifier", "detector", "script_identifier", "recognizer", "clusterer", "entity_recognizer", "template_matcher")
_STAGE_NOUN = {
    "rectifier": "page rectifier",
    "detector": "text detector",
    "script_identifier": "script identifier",
    "recognizer": "recogniser",
    "entity_recognizer": "entity recogniser (NER)",
    "clusterer": "text clusterer",
    "template_matcher": "template matcher",
    "orientation_check": "orientation check (recogniser)",
}
CROP_HEIGHT = 32  # crops handed to script identifiers and recognisers; they may resize further

#: ``progress(done_pages, total_pages, page)``, called by :meth:`Engine.read` after each page; the
#: total is None when the pages cannot be counted before reading (bytes of a PDF or TIFF).
ProgressCallback = Callable[[int, int | None, Page], None]


class Engine:
    """Reads page images into Documents with the installed plugins.

    One Engine may be shared by many threads (a web service's request handlers): stages are
    built once under a lock, and reading a page changes no state of the Engine or of kocr's own
    stages, so concurrent reads return the same Documents as sequential ones. A third-party
    stage must keep the same promise (docs/plugins.md).

    >>> engine = Engine()                       # defaults, KOCR_* env, installed plugins
    >>> doc = engine.read("invoice.png")        # path, bytes, PIL image, array, directory, list
    >>> print(doc.text)
    """

    def __init__(
        self,
        config: EngineConfig | str | Path | None = None,
        *,
        plugins: Iterable[Any] = (),
        load_entrypoints: bool = True,
        **overrides: Any,
    ) -> None:
        if isinstance(config, EngineConfig):
            self.config = config.updated(**overrides)
        else:
            self.config = EngineConfig.load(config, **overrides)
        self._pm, infos = create_plugin_manager(plugins, load_entrypoints)
        self.registry: Registry = collect(self._pm, infos)
        self.device = resolve_device(self.config.compute.device)
        #: What runs the built-in models here: ``compute.runtime`` with ``auto`` resolved.
        self.runtime = resolve_runtime(self.config.compute.runtime, self.device)
        if self.runtime == "torch" and importlib.util.find_spec("torch") is None:
            where = "a GPU" if self.device != "cpu" else "runtime: torch"
            raise KocrConfigError(f'{where} needs torch, which is not installed: pip install "kocr-sdk[torch]" '
                                  "(on a CPU, runtime: auto or onnx reads without it)")
        if self.config.compute.threads:
            self._limit_threads(self.config.compute.threads)
        self._choices = {stage: self._choose(stage) for stage in STAGES if stage != "recognizer"}
        self._check_recognizer_map()
        self._instances: dict[tuple[str, str], Stage] = {}
        self._templates: list[Template] | None = None
        self._lock = threading.RLock()
        self._check_default_script()
        for names in self.config.recognition.choose.values():
            for name in names:
                self.registry.get("recognizer", name)  # fail early on a name that is not installed
        self._start_configured_stages()
        if self.config.templates.template:
            # a broken --template file or an unknown id fails now, not after a page's OCR has run
            self._load_templates()

    def _limit_threads(self, threads: int) -> None:
        """Threads for onnxruntime's sessions and torch's kernels, without importing torch (a second's
        start) where nothing runs on it.

        onnxruntime's sessions take ``threads`` (:func:`~kocr_sdk.runtime.onnx.set_default_threads`).
        On the onnx runtime torch is loaded only if a stage needs it; ``OMP_NUM_THREADS`` (unless
        the caller set it) makes a torch imported later start with ``threads``."""
        from .runtime.onnx import set_default_threads

        set_default_threads(threads)
        if self.runtime == "torch" or "torch" in sys.modules:
            import torch

            torch.set_num_threads(threads)
        else:
            os.environ.setdefault("OMP_NUM_THREADS", str(threads))

    def _check_recognizer_map(self) -> None:
        """Every recogniser ``recognizers`` names is installed and declares the script it is named for.

        Why: weights read only the characters they were trained on, so ``{latin: thai-crnn}``
        would turn every Latin word into Thai-looking noise while the run reports success.
        """
        for script, name in self.config.recognition.recognizers.items():
            reg = self.registry.get("recognizer", name)  # fails on a name that is not installed
            if script not in reg.scripts:
                readers = [r.name for r in self.registry.recognizers_for(script)]
                instead = (f"recognisers that read {script}: {', '.join(readers)}" if readers else
                           f"no installed recogniser declares {script}; to have another script's recogniser "
                           f"read its words, route it: script_routes: {{{script}: <script>}}")
                raise KocrConfigError(f"recognizers.{script}: {name!r} does not read {script!r}, it declares only "
                                      f"{', '.join(reg.scripts)} ({instead})")

    def _check_default_script(self) -> None:
        """``default_script`` must be a script some installed recogniser reads (when any is installed)."""
        declared = {s for r in self.registry.stages["recognizer"].values() for s in r.scripts}
        known = sorted(declared | set(self.config.recognition.recognizers) | set(self.config.scripts.routes))
        if declared and self.config.set_by_user("scripts", "default") and self.config.scripts.default not in known:
            raise KocrConfigError(f"scripts.default {self.config.scripts.default!r} is not a script an installed "
                                  f"recogniser reads (known: {', '.join(known)})")

    def _start_configured_stages(self) -> None:
        """Build now every implementation the config gives ``options`` to, so that a bad option
        (a missing weights file, a value out of range) fails here rather than on the first page.

        Implementations without options stay lazy: they load when a page first needs them.
        """
        by_name = {name: reg for regs in self.registry.stages.values() for name, reg in regs.items()}
        for name in self.config.options:
            if name not in by_name:
                close = difflib.get_close_matches(name, list(by_name), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else f" (registered: {', '.join(sorted(by_name)) or 'none'})"
                raise KocrConfigError(f"options: {name!r} is not a registered implementation{hint}")
            reg = by_name[name]
            if reg.stage == "recognizer" or self._choices.get(reg.stage) is reg:
                self._instance(reg)

    # ----------------------------------------------------------------- choosing implementations
    def _choose(self, stage: str) -> Registration | None:
        wanted = self.config.implementation(stage)
        if wanted == "none":
            return None
        if wanted == "auto":
            return self.registry.choose(stage)
        return self.registry.get(stage, wanted)

    def _instance(self, reg: Registration) -> Stage:
        key = (reg.stage, reg.name)
        built = self._instances.get(key)
        if built is not None:
            return built
        with self._lock:  # threads sharing an Engine build each stage once
            return self._build(reg, key)

    def _build(self, reg: Registration, key: tuple[str, str]) -> Stage:
        if key not in self._instances:
            options = dict(self.config.options.get(reg.name, {}))
            # A stage that declares an ONNX path (``runtimes``) gets the configured runtime;
            # others (third-party stages, torch-only ones) run as they always do.
            if self.runtime != "torch" and self.runtime in getattr(reg.factory, "runtimes", ()):
                options.setdefault("runtime", self.runtime)
            try:
                self._instances[key] = reg.factory(device=self.device, **options)
            except KocrError:
                raise
            except Exception as exc:
                raise KocrStageError(
                    f"{_STAGE_NOUN[reg.stage]} {reg.name!r} from {reg.plugin.describe()} failed to start: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
        return self._instances[key]

    def recognizer_for(self, script: str) -> Registration | None:
        """The recogniser that reads words of ``script``, or None when none is installed for it.

        In order: the one ``recognizers`` names for the script; the recogniser of the script
        that ``script_routes`` sends it to, when that one declares the script too or no
        installed recogniser does (symbols, ``other``, are declared by none); the best installed
        one whose ``scripts`` cover it.
        """
        if script in self.config.recognition.recognizers:
            return self.registry.get("recognizer", self.config.recognition.recognizers[script])
        candidates = self.registry.recognizers_for(script)
        route = self.config.scripts.routes.get(script)
        if route is not None and route != script:
            routed = (self.registry.get("recognizer", self.config.recognition.recognizers[route]) if route in self.config.recognition.recognizers
                      else next(iter(self.registry.recognizers_for(route)), None))
            if routed is not None and (script in routed.scripts or not candidates):
                return routed
        return candidates[0] if candidates else None

    def describe(self) -> dict[str, str]:
        """For each stage, the implementation that will run or why none will."""
        out = {}
        for stage in STAGES:
            if stage == "recognizer":
                regs = sorted(self.registry.stages["recognizer"].values(), key=lambda r: r.name)
                out[stage] = ", ".join(f"{r.name} ({'/'.join(r.scripts)})" for r in regs) or "missing"
            else:
                reg = self._choices[stage]
                out[stage] = reg.name if reg else ("disabled" if self.config.implementation(stage) == "none" else "missing")
        return out

    def entity_labels(self) -> set[str]:
        """The labels a template's ``entity`` may name: kocr's own, those installed entity
        recognisers declare, and those the config's ``label_map`` of the chosen one renames to."""
        labels = self.registry.entity_labels()
        reg = self._choices.get("entity_recognizer")
        if reg is not None:
            label_map = self.config.options.get(reg.name, {}).get("label_map") or {}
            if isinstance(label_map, dict):
                labels |= {v for v in label_map.values() if isinstance(v, str)}
        return labels

    @property
    def templates(self) -> list[Template]:
        """The templates the matcher chooses among (all registered ones, or the forced one)."""
        with self._lock:
            return self._load_templates()

    def _load_templates(self) -> list[Template]:
        if self._templates is None:
            forced = self.config.templates.template
            labels = self.entity_labels()
            if forced and (forced.endswith((".yaml", ".yml")) or Path(forced).exists()):
                self._templates = [load_template(forced, labels)]
            else:
                dirs = [d for d, _ in self.registry.template_dirs] + list(self.config.templates.dirs)
                found = discover_templates(dirs, labels)
                if forced:
                    found = [t for t in found if t.id == forced]
                    if not found:
                        raise KocrConfigError(f"no template with id {forced!r} (see `kocr templates list`)")
                self._templates = found
        return self._templates

    # ----------------------------------------------------------------------------- reading
    def read(self, inputs: Any, on_error: Literal["raise", "record"] | None = None,
             progress: ProgressCallback | None = None) -> Document:
        """Read every page of ``inputs`` (a path, directory, glob, bytes, PIL image, array, or a list).

        ``on_error`` says what a file that cannot be read (corrupt, not an image, too large) does:
        ``"raise"`` raises its :class:`KocrInputError`; ``"record"`` lists it in
        ``Document.failed_inputs`` and goes on with the next file, so one bad scan in a folder
        does not cost the others' pages. The default raises for a single input and records for a
        directory, a glob or a list.

        ``progress(done_pages, total_pages, page)`` is called after each page, so that a caller
        reading a long PDF or TIFF can show how far it got; ``total_pages`` is counted before
        reading, from PDF page trees and TIFF frame counts (no pixels decoded), and is None when
        some input cannot be counted so (bytes of a PDF or TIFF). An exception it raises stops
        the read. To hand pages on as they are read instead (a web service streaming a long
        file), use :meth:`iter_pages`.
        """
        items = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        many = isinstance(inputs, (list, tuple)) or (isinstance(inputs, (str, Path)) and len(_files_of(inputs)) != 1)
        policy = on_error or ("record" if many else "raise")
        if policy not in ("raise", "record"):
            raise KocrConfigError(f"on_error must be 'raise' or 'record', not {on_error!r}")
        files = [one for item in items for one in _files_of(item)]
        total = _count_pages(files) if progress is not None else None
        pages: list[Page] = []
        failed: list[FailedInput] = []
        for one in files:
            try:
                for page_image in iter_pages(one, self.config.input.max_side, self.config.input.max_pixels, self.config.pdf.dpi):
                    pages.append(self.read_page(page_image, len(pages)))
                    if progress is not None:
                        progress(len(pages), total, pages[-1])
            except KocrInputError as exc:
                if policy == "raise":
                    raise
                failed.append(FailedInput(source=_describe(one), message=str(exc)))
        return Document(kocr_version=__version__, pages=pages, failed_inputs=failed, metadata=self._metadata())

    def iter_pages(self, inputs: Any) -> Iterator[Page]:
        """Pages one at a time, each as soon as it is read: the streaming API.

        Why: a long PDF or TIFF need not be held in memory whole, and a web service can send each
        page on (one JSON line a page) while the next is read. Any input :meth:`read` takes for
        one file; a file that cannot be read raises its :class:`KocrInputError` when reached.
        """
        pages = iter_pages(inputs, self.config.input.max_side, self.config.input.max_pixels, self.config.pdf.dpi)
        for index, page_image in enumerate(pages):
            yield self.read_page(page_image, index)

    def _metadata(self) -> dict[str, Any]:
        return {"device": self.device, "stages": self.describe()}

    def read_page(self, pim: PageImage, index: int = 0) -> Page:
        page = Page(index=index, source=pim.source, width=pim.width, height=pim.height, scale=pim.scale,
                    pdf_text_layer=pim.text_layer.present if pim.text_layer is not None else None)
        if page.pdf_text_layer and self.config.pdf.text_layer == "use":
            return self._from_text_layer(page, pim)
        h, w = pim.image.shape[:2]
        if min(h, w) < self.config.input.min_side:
            msg = f"image is {pim.width}×{pim.height} pixels, below min_side {self.config.input.min_side}: too small to hold text"
            page.stages = [StageRecord(stage=s, status="skipped", message=msg) for s in STAGES]
            return page
        records: list[StageRecord] = []
        page, crops = self._upright_crops(page, pim, records)
        page = self._recognize(page, crops, records)
        if self.config.recognition.split_at_spaces:
            page = split_spaced_words(page, pim.image)
        page = self._understand(page, records)
        page = page.model_copy(update={"stages": records})
        for result in self._pm.hook.postprocess_page(page=page, image=pim.image):
            if result is not None:
                page = result
        return page

    def _upright_crops(self, page: Page, pim: PageImage, records: list[StageRecord]) -> tuple[Page, list[np.ndarray]]:
        """Flatten a photographed page, detect its words and cut each out upright (from the flat
        page), as the recognisers will see it; the page's boxes are in the image as given."""
        page, view = self._rectify(page, pim, records)
        page, quads = self._detect(page, view, records)
        margin = self.config.recognition.crop_margin
        around = neighbour_quads(quads, margin) if self.config.recognition.trim_neighbours else [()] * len(quads)
        crops = [crop_quad(view.image, q, CROP_HEIGHT, margin, others) for q, others in zip(quads, around)]
        return self._check_orientation(page, crops, records)

    def word_crops(self, inputs: Any) -> Iterator[list[np.ndarray]]:
        """Each page's upright word crops (detection and the orientation check only, no reading).

        Why: a folder of a user's own unlabelled pages becomes training material for
        semi-supervised recogniser training (``kocr train recognizer --unlabeled-pages``) only
        through crops cut exactly as the engine cuts them at reading time.
        """
        for _, crops in self.cut_words(inputs):
            yield crops

    def cut_words(self, inputs: Any) -> Iterator[tuple[Page, list[np.ndarray]]]:
        """Each page with its detected words (not read) and their upright crops, one per word in
        ``page.words``' order; the words' boxes are in the image as given.

        Why: labelled training crops are cut from generated pages by matching these boxes to the
        page's true words (``kocr train recognizer --labelled-pages``).
        """
        for index, pim in enumerate(iter_pages(inputs, self.config.input.max_side, self.config.input.max_pixels, self.config.pdf.dpi)):
            page = Page(index=index, source=pim.source, width=pim.width, height=pim.height, scale=pim.scale)
            if min(pim.image.shape[:2]) < self.config.input.min_side:
                yield page, []
                continue
            yield self._upright_crops(page, pim, [])

    def _from_text_layer(self, page: Page, pim: PageImage) -> Page:
        """A PDF page's own words, taken as they are; the understanding stages still run on them."""
        from .vocabulary.scripts import script_of

        msg = "words taken from the PDF's text layer (pdf_text_layer: use)"
        records = [StageRecord(stage=s, status="skipped", message=msg) for s in ("detector", "script_identifier", "recognizer")]
        words = []
        for i, tw in enumerate(pim.text_layer.words if pim.text_layer else []):
            wid = f"p{page.index}-w{i}"
            chars = [Char(id=f"{wid}-c{j}", quad=q, text=c) for j, (q, c) in enumerate(zip(tw.char_quads, tw.text))]
            words.append(Word(id=wid, quad=tw.quad, chars=chars, text=tw.text, text_confidence=1.0,
                              script=script_of(tw.text), recognizer="pdf-text-layer"))
        page = page.model_copy(update={"words": words})
        page = self._understand(page, records)
        return page.model_copy(update={"stages": records})

    @contextmanager
    def _timed(self, records: list[StageRecord], stage: str, reg: Registration | None, source: str | None):
        record = StageRecord(stage=stage, implementation=reg.name if reg else None, status="ran")
        start = time.perf_counter()
        try:
            yield record
        except KocrError:
            raise
        except Exception as exc:
            name = reg.name if reg else "?"
            raise KocrStageError(
                f"{_STAGE_NOUN[stage]} {name!r} failed on {source}: {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            record.seconds = time.perf_counter() - start
            records.append(record)

    def _missing(self, records: list[StageRecord], stage: str, why: str | None = None) -> None:
        if stage in STAGE_CHOICE and self.config.implementation(stage) == "none":
            records.append(StageRecord(stage=stage, status="skipped", message="disabled in the config"))
            return
        why = why or (
            f"no {_STAGE_NOUN[stage]} is installed; install a plugin that registers one "
            "(see `kocr plugins` and docs/plugins.md)"
        )
        records.append(StageRecord(stage=stage, status="missing", message=why))

    # ----------------------------------------------------------------------------- stages
    def _rectify(self, page: Page, pim: PageImage, records: list[StageRecord]) -> tuple[Page, "_View"]:
        """Let the rectifier flatten a photographed page (``Page.rectification``), or leave it as it is.

        The engine warps the image itself by the homography the rectifier returns, so the
        transform recorded on the page is exactly the one the pixels went through.
        """
        view = _View(pim.image, pim.scale)
        reg = self._choices["rectifier"]
        if reg is None:
            self._missing(records, "rectifier")
            return page, view
        with self._timed(records, "rectifier", reg, page.source) as record:
            result = self._instance(reg).rectify(pim.image)  # type: ignore[attr-defined]
            record.message = result.message or None
            if not result.applied:
                record.status = "skipped"
                return page, view
            matrix = _checked_homography(result, reg.name, pim.image.shape, self.config.input.max_side)
            flat = warp_homography(pim.image, matrix, result.width, result.height)
        s = pim.scale  # the rectifier saw the image resized by `scale`; the record speaks of the image as given
        rect = Rectification(matrix=(matrix @ np.diag([s, s, 1.0])).tolist(), width=result.width, height=result.height,
                             paper=scale_quad(result.paper, 1.0 / s) if result.paper is not None else None)
        return page.model_copy(update={"rectification": rect}), _View(flat, s, rect)

    def _detect(self, page: Page, view: "_View", records: list[StageRecord]) -> tuple[Page, list[Quad]]:
        """The page with its words in the pixels of the image as given, and their quads in the
        pixels of the image the detector read (where the crops are cut)."""
        reg = self._choices["detector"]
        if reg is None:
            self._missing(records, "detector")
            return page, []
        detector = self._instance(reg)
        with self._timed(records, "detector", reg, page.source):
            detection = detector.detect(view.image)  # type: ignore[attr-defined]
            if self.config.detection.upright_redetect and detection.orientation % 360 in (90, 270) and detection.words:
                detection = _detect_upright(detector, view.image, detection.orientation)
        words = []
        for i, dw in enumerate(detection.words):
            wid = f"p{page.index}-w{i}"
            chars = [
                Char(id=f"{wid}-c{j}", quad=view.to_page(c.quad), confidence=c.confidence)
                for j, c in enumerate(dw.chars)
            ]
            words.append(Word(id=wid, quad=view.to_page(dw.quad), confidence=dw.confidence, chars=chars))
        orientation = detection.orientation % 360
        page = page.model_copy(
            update={"words": words, "orientation": orientation, "orientation_confidence": detection.orientation_confidence,
                    "detection_scale": detection.scale}
        )
        return page, [dw.quad for dw in detection.words]

    def _check_orientation(
        self, page: Page, crops: list[np.ndarray], records: list[StageRecord]
    ) -> tuple[Page, list[np.ndarray]]:
        """Let the recogniser settle 0° against 180°: read probe words both ways up (kocr_sdk.orientation)."""
        if not self.config.orientation.check or not page.words:
            return page, crops
        reg = self.recognizer_for(self.config.scripts.default)
        if reg is None:
            return page, crops
        probes = orientation.choose_probes(page.words, crops, page.orientation, self.config.orientation.probes)
        if not probes:
            records.append(StageRecord(stage="orientation_check", implementation=reg.name, status="skipped",
                                       message="no word long enough to tell which way up the page is"))
            return page, crops
        recognizer = self._instance(reg)

        def confidences(batch: list[np.ndarray]) -> list[float]:
            return [r.confidence for r in self._batched(recognizer.recognize, batch, f"recogniser {reg.name!r}")]  # type: ignore[attr-defined]

        with self._timed(records, "orientation_check", reg, page.source) as record:
            result = orientation.vote([crops[i] for i in probes], confidences, first=self.config.orientation.first_probes,
                                      sure_margin=self.config.orientation.sure_margin)
            words, crops, page_orientation = orientation.apply(page.words, crops, page.orientation, result.flip)
            record.message = (f"{result.probes} probe words, mean confidence gain when turned 180°: "
                              f"{result.margin:+.3f}; {'turned' if result.flip else 'kept'}")
            if self.config.orientation.other_axis:
                words, crops, n_other, flips = orientation.settle_other_axis(words, crops, page_orientation, confidences)
                if n_other:
                    record.message += f"; words on the other axis read both ways round: {flips} of {n_other} turned"
        page = page.model_copy(update={"words": words, "orientation": page_orientation,
                                       "orientation_confidence": result.confidence})
        return page, crops

    def read_crops(self, crops: list[np.ndarray], scripts: list[str] | None = None) -> list[CropReading]:
        """Identify the script of upright word crops and read each with its script's recogniser.

        With ``scripts`` given (e.g. ground truth in an evaluation), identification is skipped.
        This is the recognition half of the pipeline without detection; the engine's page
        reading goes through it too.
        """
        records: list[StageRecord] = []
        if scripts is not None:
            predictions = [ScriptPrediction(probabilities={s: 1.0}) for s in scripts]
        else:
            predictions = self._identify_scripts("<crops>", crops, records)
        return self._read(crops, predictions, records, "<crops>")

    def _identify_scripts(
        self, source: str | None, crops: list[np.ndarray], records: list[StageRecord]
    ) -> list[ScriptPrediction] | None:
        reg = self._choices["script_identifier"]
        if reg is None:
            self._missing(
                records,
                "script_identifier",
                f"no script identifier is installed; every word is read as {self.config.scripts.default!r}",
            )
            return None
        if not crops:
            records.append(StageRecord(stage="script_identifier", implementation=reg.name, status="ran"))
            return []
        with self._timed(records, "script_identifier", reg, source):
            preds = self._batched(self._instance(reg).identify, crops, f"script identifier {reg.name!r}")  # type: ignore[attr-defined]
            if self.config.scripts.page_prior:
                preds = adapt_to_page(preds, self.config.scripts.min_page_share,
                                      tuple(self.config.scripts.need_page_support))
        return preds

    def _read(
        self,
        crops: list[np.ndarray],
        predictions: list[ScriptPrediction] | None,
        records: list[StageRecord],
        source: str | None,
    ) -> list[CropReading]:
        """Group crops by script, run each group through its recogniser in batches, keep order."""
        scripts = [p.script for p in predictions] if predictions is not None else [self.config.scripts.default] * len(crops)
        if predictions is None:
            results = [CropReading() for _ in crops]
        else:
            results = [CropReading(script=p.script, script_confidence=p.confidence) for p in predictions]
        if not self.registry.stages["recognizer"]:
            self._missing(records, "recognizer")
            return results
        # Which recogniser(s) read each word: the one for its script, plus the runner-up script's
        # when the identifier was unsure (the reading with the higher confidence wins).
        # With ``recognition.choose`` for its script, every recogniser named there reads the word.
        groups: dict[str, list[int]] = defaultdict(list)
        choose = self.config.recognition.choose
        for i, script in enumerate(scripts):
            reg = self.recognizer_for(script)
            results[i].unsupported_script = reg is None and script not in choose
            if reg is None:
                reg = self.recognizer_for(self.config.scripts.default)
            regs = [self.registry.get("recognizer", n) for n in choose[script]] if script in choose else (
                [reg] if reg is not None else [])
            if predictions is not None and predictions[i].confidence < self.config.scripts.fallback_threshold:
                ranked = predictions[i].ranked()
                if len(ranked) > 1:
                    alt = self.recognizer_for(ranked[1][0])
                    if alt is not None and alt not in regs:
                        regs.append(alt)
            for r in regs:
                groups[r.name].append(i)
        main_script, second = self._minority_readers(scripts, choose) if predictions is not None else (None, {})
        for i, reg in second.items():
            if i not in groups[reg.name]:
                groups[reg.name].append(i)
        start = time.perf_counter()
        names = sorted(groups)
        found: list[list[tuple[str, Reading]]] = [[] for _ in crops]
        for name in names:
            reg = self.registry.get("recognizer", name)
            idx = groups[name]
            with self._timed([], "recognizer", reg, source):
                out = self._batched(self._instance(reg).recognize, [crops[i] for i in idx], f"recogniser {name!r}")  # type: ignore[attr-defined]
            for i, reading in zip(idx, out):
                found[i].append((name, reading))
        for i, readings in enumerate(found):
            if scripts[i] in choose:  # the reading most likely right, in the config's order on ties
                order = choose[scripts[i]]
                readings.sort(key=lambda nr: order.index(nr[0]) if nr[0] in order else len(order))
                results[i].recognizer, results[i].reading = choice.choose(readings, self.config.recognition.calibration)
            elif readings:  # the higher confidence
                results[i].recognizer, results[i].reading = max(readings, key=lambda nr: nr[1].confidence)
            if i in second and readings:
                # The stray is the page's script when the page's reader was the surer, or when its own
                # script's reader found none of that script in the crop (a "hangul" word read "001").
                # The text stays the surer reading; the label becomes what the main reader reads.
                main = second[i]
                stray = next((r for n, r in readings if n != main.name), None)
                if results[i].recognizer == main.name or (stray is not None and not has_script(stray.text, scripts[i])):
                    found_script = script_of(results[i].reading.text)  # set above: ``readings`` is not empty
                    results[i].script = found_script if found_script in main.scripts else main_script
                    results[i].unsupported_script = False
        for res in results:
            if res.reading is not None:
                res.reading = _trimmed(res.reading)
        self._relabel_by_reading(results)
        records.append(
            StageRecord(stage="recognizer", implementation=",".join(names) or None, status="ran",
                        seconds=time.perf_counter() - start)
        )
        return results

    def _relabel_by_reading(self, results: list[CropReading]) -> None:
        """A word labelled Hangul (Han, Kana: ``scripts.relabel_by_reading``) whose reading holds no
        Hangul takes the script of what was read. In place.

        Why: such a label is contradicted by its own reader, which reads Latin letters and digits
        as well (a Hangul-labelled `001` on an English form). Empty readings keep their label
        (nothing was read to contradict it), and so do words no reader of their script read (a
        best effort by another script's reader says nothing about the script).
        """
        relabel = set(self.config.scripts.relabel_by_reading)
        for res in results:
            text = res.reading.text if res.reading is not None else ""
            if res.script in relabel and not res.unsupported_script and text.strip() and not has_script(text, res.script):
                res.script, res.script_confidence = script_of(text), None  # the identifier's no longer applies
                reg = self.registry.get("recognizer", res.recognizer) if res.recognizer else None
                res.unsupported_script = reg is None or res.script not in reg.scripts

    def _minority_readers(self, scripts: list[str], choose: dict[str, list[str]]
                          ) -> tuple[str | None, dict[int, Registration]]:
        """The page's main script, and the words whose script is a stray on it with the main script's
        reader to read them too.

        Why: the page prior (kocr_sdk.script_id.page_prior) lets a Korean name on an English form keep
        its Hangul label, so a lone Hangul guess on an English word keeps it as well, and is read by a
        recogniser that cannot read English. Which of the two it is, the two readers tell: a Hangul
        reader is sure of a real Korean word, the Latin reader of a real English one. Only scripts
        the main reader cannot read are checked (a Latin word on a Korean page is read by the Hangul
        weights anyway), and only on pages where the stray script is rare (``min_page_share``).
        """
        if not self.config.scripts.minority_check or not scripts:
            return None, {}
        counts = Counter(scripts)
        main = counts.most_common(1)[0][0]
        main_reg = self.recognizer_for(main)
        if main_reg is None or main in choose:
            return None, {}
        readable = set(main_reg.scripts)
        checked = set(self.config.scripts.minority_check)
        rare = {s for s, n in counts.items() if s in checked and s != main and s not in readable and s not in choose
                and n < self.config.scripts.min_page_share * len(scripts)}
        return main, {i: main_reg for i, s in enumerate(scripts) if s in rare}

    def _recognize(self, page: Page, crops: list[np.ndarray], records: list[StageRecord]) -> Page:
        predictions = self._identify_scripts(page.source, crops, records)
        results = self._read(crops, predictions, records, page.source)
        words = []
        for word, res in zip(page.words, results):
            update: dict[str, Any] = {"script": res.script, "script_confidence": res.script_confidence}
            if res.reading is not None:
                update.update(text=res.reading.text, text_confidence=res.reading.confidence, recognizer=res.recognizer,
                              unsupported_script=res.unsupported_script, chars=_label_chars(word.chars, res.reading))
            words.append(word.model_copy(update=update))
        return page.model_copy(update={"words": words, "script_shares": _script_shares(results)})

    def _understand(self, page: Page, records: list[StageRecord]) -> Page:
        reg = self._choices["clusterer"]
        if reg is None:
            self._missing(records, "clusterer")
        else:
            with self._timed(records, "clusterer", reg, page.source):
                blocks = self._instance(reg).cluster(page)  # type: ignore[attr-defined]
            page = page.model_copy(update={"blocks": blocks})
        reg = self._choices["entity_recognizer"]  # after clustering: NER reads lines in reading order
        if reg is None:
            self._missing(records, "entity_recognizer")
        else:
            with self._timed(records, "entity_recognizer", reg, page.source):
                entities = self._instance(reg).recognize(page)  # type: ignore[attr-defined]
            page = page.model_copy(update={"entities": entities})
        reg = self._choices["template_matcher"]
        if reg is None:
            self._missing(records, "template_matcher")
        else:
            templates = self.templates
            with self._timed(records, "template_matcher", reg, page.source) as record:
                found = self._instance(reg).read(page, templates)  # type: ignore[attr-defined]
                record.message = found.message  # which template and why, or why none fits
            page = page.model_copy(update={"template_match": found.match, "key_values": found.key_values})
        return page

    def _batched(self, fn, crops: list[np.ndarray], what: str) -> list[Any]:
        """``fn`` over ``crops`` in batches of ``batch_size``, results in the crops' order.

        Why the crops are ordered by aspect ratio first: a stage pads each batch to its widest
        crop, and reading order mixes 60-pixel words with 230-pixel lines, so a batch cut in
        page order is mostly padding. Batches of similar aspect (the width every stage
        normalises to at a fixed height) read 1.9× faster with the shipped recogniser (87 → 162
        crops/s on one thread, docs/benchmarks.md), and a stage that sorts within its own batch
        cannot recover this, since it never sees the rest of the page.
        """
        order = sorted(range(len(crops)), key=lambda i: crops[i].shape[1] / max(1, crops[i].shape[0]))
        out: list[Any] = [None] * len(crops)
        size = self.config.recognition.batch_size
        for start in range(0, len(order), size):
            idx = order[start:start + size]
            results = fn([crops[i] for i in idx])
            if len(results) != len(idx):
                raise KocrStageError(f"{what} returned {len(results)} results for a batch of {len(idx)} crops")
            for i, result in zip(idx, results):
                out[i] = result
        return out


@dataclass
class _View:
    """The image the detector and recognisers read, and how its pixels map to the page's (as given)."""

    image: np.ndarray
    scale: float
    rectification: Rectification | None = None

    def to_page(self, quad: Quad) -> Quad:
        if self.rectification is not None:
            return self.rectification.to_page(quad)
        return scale_quad(quad, 1.0 / self.scale)


def _checked_homography(result: Any, name: str, shape: tuple[int, ...], max_side: int) -> np.ndarray:
    """A rectifier's matrix as a 3×3 array, or a KocrStageError saying what is wrong with it."""
    try:
        m = np.asarray(result.matrix, dtype=np.float64).reshape(3, 3)
    except ValueError:
        raise KocrStageError(f"page rectifier {name!r} returned a matrix that is not 3×3") from None
    if not np.isfinite(m).all() or abs(np.linalg.det(m)) < 1e-12:
        raise KocrStageError(f"page rectifier {name!r} returned a singular or non-finite matrix")
    if result.width is None or result.height is None:
        raise KocrStageError(f"page rectifier {name!r} returned a matrix without the flat page's width and height")
    if max(result.width, result.height) > 2 * max(max_side, *shape[:2]):
        raise KocrStageError(f"page rectifier {name!r} asked for a {result.width}×{result.height} page from a "
                             f"{shape[1]}×{shape[0]} image")
    return m


@dataclass
class CropReading:
    """What the engine learned about one word crop: its script and its reading."""

    script: str | None = None
    script_confidence: float | None = None
    reading: Reading | None = None
    recognizer: str | None = None
    unsupported_script: bool = False


def _files_of(item: Any) -> list[Any]:
    """A directory or glob as its files (a KocrInputError when it names none); anything else as itself."""
    if isinstance(item, (str, Path)):
        path = Path(item)
        if path.is_dir() or (not path.exists() and set("*?[") & set(str(item))):
            return list(expand_inputs([item]))
    return [item]


def _count_pages(files: list[Any]) -> int | None:
    """Pages in ``files`` without decoding them, or None when one cannot be counted so."""
    total = 0
    for item in files:
        if isinstance(item, (np.ndarray, Image.Image)):
            total += 1
        elif isinstance(item, (str, Path)):
            try:
                total += count_pages(item)
            except KocrError:  # reading it will say what is wrong (or record it)
                return None
        else:
            return None
    return total


def _describe(item: Any) -> str:
    return str(item) if isinstance(item, (str, Path)) else f"<{type(item).__name__}>"


def _script_shares(results: list[CropReading]) -> dict[str, float]:
    counts: dict[str, int] = defaultdict(int)
    for r in results:
        if r.script is not None:
            counts[r.script] += 1
    total = sum(counts.values())
    return {s: round(c / total, 4) for s, c in sorted(counts.items())} if total else {}


def _trimmed(reading: Reading) -> Reading:
    """``reading`` without spaces at its ends (and their character confidences).

    Why: a CTC recogniser can emit a space at a crop's edge where the margin shows a sliver of
    the next word's gap (``INSTRUCTIONS: ``); a word never starts or ends with one, and a space
    left there makes an exact reading wrong and a searched phrase unfound.
    """
    text = reading.text
    stripped = text.strip()
    if stripped == text:
        return reading
    start = len(text) - len(text.lstrip())
    confs = reading.char_confidences
    if confs is not None and len(confs) == len(text):
        confs = confs[start:start + len(stripped)]
    return reading.model_copy(update={"text": stripped, "char_confidences": confs})


def _label_chars(chars: list[Char], reading: Reading) -> list[Char]:
    """Give each detected character box its letter, and the recogniser's probability for it, when the counts agree.

    Spaces have no box, so a reading's letters are its non-space characters, and its
    ``char_confidences`` (one per character of the text, spaces included) lose the spaces' entries
    too. Each labelled box's ``confidence`` becomes the recogniser's probability for its letter;
    a recogniser that gives no per-character confidences leaves the detector's there.

    When the detector found a different number of character boxes than the recogniser read
    letters, nothing says which box holds which letter: the boxes are returned unchanged (text
    None, the detector's confidence), and the per-character confidences are not kept — the
    word's ``text_confidence`` (the lowest of them, for kocr's recognisers) still says how sure
    the reading is.
    """
    letters = [c for c in reading.text if not c.isspace()]
    if not chars or len(letters) != len(chars):
        return chars
    confs = reading.char_confidences
    if confs is not None and len(confs) == len(reading.text):
        confs = [c for ch, c in zip(reading.text, confs) if not ch.isspace()]
    else:
        confs = None
    return [
        c.model_copy(update={"text": letter, **({"confidence": float(confs[k])} if confs else {})})
        for k, (c, letter) in enumerate(zip(chars, letters))
    ]


def _detect_upright(detector: Any, image: np.ndarray, orientation: int) -> Detection:
    """Detect again on the page turned upright, with the boxes mapped back to ``image``'s pixels.

    The detector splits sideways words into pieces far more often than upright ones (receipts
    photographed sideways lost most); a second pass on the turned page costs one detection on
    sideways pages only. Its page orientation comes from the mapped boxes' reading direction:
    the detector cannot tell a page from its 180° turn, which the orientation check settles.
    """
    upright, back = turn_upright(image, orientation)
    found = detector.detect(upright)
    words = [
        DetectedWord(quad=back(w.quad), confidence=w.confidence,
                     chars=[DetectedChar(quad=back(c.quad), confidence=c.confidence) for c in w.chars])
        for w in found.words
    ]
    return Detection(words=words, orientation=reading_orientation([w.quad for w in words]) if words else orientation,
                     orientation_confidence=found.orientation_confidence, scale=found.scale)
