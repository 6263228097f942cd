"""What this CPU can do fast, for choices that only pay on some CPUs.

int8 arithmetic is not faster everywhere. onnxruntime's int8 kernels beat fp32 where the CPU has
an int8 dot-product instruction (x86 VNNI — AVX-512 VNNI, AVX-VNNI — or AMX; Arm's dot product):
measured on a Xeon with AVX-512 VNNI, the NER model's tagger ran 27 % faster on int8 weights with
the same entity F1, and the detector network about a third faster with the same word H-mean on
FUNSD (docs/benchmarks.md). On an AMD EPYC with AVX2 alone the int8 NER graph was no
faster and a static int8 detector slower than fp32, so int8 there would change the
numbers for nothing. The detector and NER stages ask :func:`int8_by_default` when their ``quantize``
option is left unset on the onnx runtime.
"""

from __future__ import annotations

from functools import lru_cache

#: /proc/cpuinfo flags of an int8 dot-product instruction (x86 ``flags``, Arm ``Features``).
INT8_DOT_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "amx_int8", "asimddp"})


def cpu_flags(cpuinfo: str) -> set[str]:
    """The feature flags named in a /proc/cpuinfo text (its ``flags`` or ``Features`` lines)."""
    found: set[str] = set()
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() in ("flags", "features"):
            found.update(value.split())
    return found


@lru_cache(maxsize=1)
def int8_is_fast() -> bool:
    """Whether this CPU has an int8 dot-product instruction (False where it cannot be told).

    A stage's own ``quantize`` option overrides this answer (``quantize: false`` in the engine
    config gives the same numbers on every machine of a fleet)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            return bool(cpu_flags(fh.read()) & INT8_DOT_FLAGS)
    except OSError:  # not Linux: keep fp32, the choice that is never slower by much
        return False


def int8_by_default(device: str) -> bool:
    """What an onnx stage whose ``quantize`` option is unset runs: int8 on a CPU that has an int8
    dot product, fp32 on any other CPU and on GPUs."""
    return device == "cpu" and int8_is_fast()
