"""The loader fuzz tests' strategies at length: 10,000+ random inputs per loader.

    nice python benchmarks/fuzz_loaders.py --examples 10000 --out benchmarks/results/fuzz_loaders.json

``tests/test_fuzz_loaders.py`` runs a bounded, derandomised sample in CI; this draws fresh random
inputs from the same strategies (mutated valid PNG/JPEG/TIFF/BMP/GIF/WebP/PNM files, mutated
small PDFs, mutated templates and engine configs, noise) and, instead of stopping at the first
failure, counts every outcome per loader: inputs, accepted, refused with a KocrError, and
anything else (must be 0: another exception is a traceback in the CLI; a run past the per-input
time limit counts there too).
The first few failures of each loader are printed with their input's length and first bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests import test_fuzz_loaders as fz  # noqa: E402


def loaders() -> dict:
    """Loader name -> (strategy of arguments, read function)."""
    return {
        "image": (st.tuples(fz.image_inputs(), st.sampled_from([16, 4096]), st.booleans()), fz.read_image),
        "pdf": (st.tuples(fz.pdf_inputs(), st.booleans()), fz.read_pdf),
        "template": (st.tuples(fz.template_inputs(known_bad=True)), fz.read_template),
        "config": (st.tuples(fz.config_inputs(known_bad=True)), fz.read_config),
    }


def run(name: str, strategy, read, examples: int, show: int) -> dict:
    """Draw ``examples`` inputs and tally what ``read`` does with each; failures do not stop it."""
    counts: Counter[str] = Counter()
    failures: Counter[str] = Counter()
    shown = 0

    @settings(max_examples=examples, deadline=None, database=None, derandomize=False, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def each(args: tuple) -> None:
        nonlocal shown
        counts["inputs"] += 1
        try:
            counts[fz.outcome(read, *args)] += 1
        except Exception as exc:  # noqa: BLE001 - the figure this benchmark exists to count
            counts["other"] += 1
            where = traceback.extract_tb(exc.__traceback__)[-1]
            key = f"{type(exc).__name__} at {Path(where.filename).name}:{where.lineno}"
            failures[key] += 1
            if shown < show:
                shown += 1
                data = args[0]
                print(f"  {name}: {type(exc).__name__}: {str(exc)[:160]} ({len(data)} bytes: {data[:48]!r})", flush=True)

    started = time.perf_counter()
    each()
    seconds = time.perf_counter() - started
    return {"inputs": counts["inputs"], "accepted": counts["accepted"], "kocr_errors": counts["refused"],
            "other_exceptions": counts["other"], "seconds": round(seconds, 1), "failures": dict(failures)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=10_000, help="inputs per loader")
    parser.add_argument("--loaders", nargs="+", choices=list(loaders()), default=list(loaders()))
    parser.add_argument("--show", type=int, default=3, help="failures printed per loader")
    parser.add_argument("--out", type=Path, help="write the counts as JSON here")
    args = parser.parse_args()
    for var in [v for v in os.environ if v.startswith("KOCR_")]:
        del os.environ[var]  # the config loader reads the file alone, as in the tests
    os.environ["KOCR_LOAD_PLUGINS"] = ""
    table = loaders()
    results = {}
    for name in args.loaders:
        strategy, read = table[name]
        results[name] = row = run(name, strategy, read, args.examples, args.show)
        print(f"{name}: {row['inputs']:,} inputs, {row['accepted']:,} accepted, {row['kocr_errors']:,} KocrErrors, "
              f"{row['other_exceptions']:,} other exceptions ({row['seconds']} s)"
              + "".join(f"\n    {n} × {k}" for k, n in row["failures"].items()), flush=True)
        if args.out:
            args.out.write_text(json.dumps({"examples": args.examples, "hang_seconds": fz.HANG_SECONDS,
                                            "loaders": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
