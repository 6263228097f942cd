"""What ``pip install kocr-sdk`` puts on a machine: packages and megabytes, by extra.

    python benchmarks/install_size.py [--extras "" torch train] [--out results.json]

Builds kocr's wheel from this checkout, installs it with each set of extras into a fresh virtual
environment from the package index (``""``: the default install), and reports the number of
distributions installed (kocr included), the size of site-packages and its largest packages, and
whether torch is among them. Needs the package index; takes a few minutes per extra.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


def measure(wheel: Path, extras: str, workdir: Path) -> dict:
    env_dir = workdir / f"venv-{extras or 'default'}"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = str(env_dir / "bin" / "python")
    spec = f"{wheel}[{extras}]" if extras else str(wheel)
    subprocess.run([py, "-m", "pip", "install", "-q", spec], check=True)
    site = Path(subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    listed = json.loads(subprocess.run([py, "-m", "pip", "list", "--format", "json"], capture_output=True, text=True,
                                       check=True).stdout)
    names = sorted(d["name"].lower() for d in listed if d["name"].lower() not in {"pip", "setuptools", "wheel"})
    sizes = sorted(((folder_mb(p), p.name) for p in site.iterdir() if p.is_dir() and not p.name.endswith("-info")),
                   reverse=True)
    return {"extras": extras or "(default)", "distributions": len(names), "site_packages_mb": round(folder_mb(site), 1),
            "torch": "torch" in names, "largest_mb": {name: round(mb, 1) for mb, name in sizes[:8]},
            "names": names}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--extras", nargs="*", default=[""])
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                        str(work), str(ROOT)], check=True)
        wheel = next(work.glob("kocr_sdk-*.whl"))
        results = [measure(wheel, extras, work) for extras in args.extras]
    for r in results:
        print(f"{r['extras']}: {r['distributions']} distributions, {r['site_packages_mb']} MB, torch {r['torch']}; "
              f"largest {r['largest_mb']}")
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
