"""Text to render: words and form-like tokens, each with its script label.

Korean words are the Hangul-only entries of wordfreq's Korean list; English from its English
list; Faker (ko_KR, en_US) gives names, companies, addresses, phone numbers and emails; dates,
amounts and registration numbers are built here in the forms Korean documents write them.
"""

from __future__ import annotations

import functools
import random
import re

from ..eval.scripts import script_of

__all__ = ["TextSource", "script_of", "biz_reg_no_check_digit"]

_HANGUL_WORD = re.compile(r"^[가-힣]+$")
_LATIN_WORD = re.compile(r"^[A-Za-z][A-Za-z'-]*$")


@functools.lru_cache(maxsize=None)
def korean_words(n: int = 30000) -> tuple[str, ...]:
    from wordfreq import top_n_list

    return tuple(w for w in top_n_list("ko", n) if _HANGUL_WORD.match(w))


@functools.lru_cache(maxsize=None)
def english_words(n: int = 30000) -> tuple[str, ...]:
    from wordfreq import top_n_list

    return tuple(w for w in top_n_list("en", n) if _LATIN_WORD.match(w))


@functools.lru_cache(maxsize=None)
def _faker(locale: str):
    from faker import Faker

    return Faker(locale)


def biz_reg_no_check_digit(first9: str) -> int:
    """Check digit of a Korean business registration number from its first nine digits."""
    weights = (1, 3, 7, 1, 3, 7, 1, 3, 5)
    d = [int(c) for c in first9]
    total = sum(a * b for a, b in zip(d, weights)) + (d[8] * 5) // 10
    return (10 - total % 10) % 10


class TextSource:
    """Draws word-level strings of a given kind; a pure function of the ``random.Random`` passed."""

    KINDS = ("ko_word", "en_word", "mixed", "number", "date", "amount", "id", "name", "phone", "symbol")

    def word(self, rng: random.Random, kind: str) -> str:
        if kind == "ko_word":
            words = korean_words()
            # Bias towards frequent words but keep the tail: rank ~ exponential.
            w = words[min(len(words) - 1, int(rng.expovariate(1 / 4000)))]
            if rng.random() < 0.15:
                w += rng.choice(["은", "는", "이", "가", "을", "를", "의", "에", "에서", "으로", "과", "와", "도"])
            return w
        if kind == "en_word":
            w = english_words()[min(len(english_words()) - 1, int(rng.expovariate(1 / 5000)))]
            r = rng.random()
            return w.upper() if r < 0.2 else w.capitalize() if r < 0.5 else w
        if kind == "mixed":
            k = self.word(rng, "ko_word")
            return rng.choice([
                f"(주){k}", f"㈜{k}", f"{k}(주)", f"{rng.randint(1990, 2030)}년", f"{rng.randint(1, 12)}월",
                f"{rng.randint(1, 31)}일", f"{k}:", f"{k}({self.word(rng, 'en_word')})", f"제{rng.randint(1, 999)}호",
                f"{rng.randint(1, 99)}층", f"{rng.randint(1, 999)}번지", f"No.{rng.randint(1, 9999)}", f"TEL", f"FAX",
            ])
        if kind == "number":
            return rng.choice([str(rng.randint(0, 99)), str(rng.randint(0, 99999)), f"{rng.randint(0, 999):03d}",
                               f"{rng.uniform(0, 1000):.{rng.randint(1, 2)}f}", f"{rng.randint(1, 100)}%"])
        if kind == "date":
            y, m, d = rng.randint(1980, 2035), rng.randint(1, 12), rng.randint(1, 28)
            return rng.choice([f"{y}-{m:02d}-{d:02d}", f"{y}.{m:02d}.{d:02d}", f"{y}/{m:02d}/{d:02d}",
                               f"{y}.{m}.{d}.", f"{y % 100:02d}.{m:02d}.{d:02d}", f"{m:02d}/{d:02d}",
                               f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"])
        if kind == "amount":
            v = rng.choice([rng.randint(100, 99999), rng.randint(1000, 9999999), rng.randint(10, 999) * 100])
            s = f"{v:,}"
            return rng.choice([s, f"{s}원", f"₩{s}", f"${s}", f"{s}.00", f"-{s}", f"({s})"])
        if kind == "id":
            first9 = f"{rng.randint(100, 999)}{rng.randint(1, 99):02d}{rng.randint(0, 9999):04d}"
            brn = first9 + str(biz_reg_no_check_digit(first9))
            return rng.choice([
                f"{brn[:3]}-{brn[3:5]}-{brn[5:]}", brn,
                f"{rng.randint(1000, 9999)}****{rng.randint(1000, 9999)}",
                f"{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}-****-{rng.randint(1000, 9999)}",
                f"{rng.randint(0, 999999):06d}-{rng.randint(1, 4)}******",
                "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(rng.randint(5, 10))),
            ])
        if kind == "name":
            f = _faker(rng.choice(["ko_KR", "ko_KR", "en_US"]))
            f.seed_instance(rng.randrange(2**31))
            return rng.choice([f.last_name() + f.first_name() if f.locales[0] == "ko_KR" else f.first_name(),
                               f.company().split()[0], f.city().split()[0]]).replace(" ", "")
        if kind == "phone":
            return rng.choice([f"0{rng.randint(2, 70)}-{rng.randint(100, 9999)}-{rng.randint(1000, 9999)}",
                               f"010-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
                               f"({rng.randint(100, 999)}){rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
                               f"1{rng.randint(500, 899)}-{rng.randint(1000, 9999)}"])
        if kind == "symbol":
            return rng.choice(["※", "·", "-", ":", "/", "~", "(", ")", "#", "*", "₩", "%", "&", "@", "[", "]",
                               "합계", "부가세", "Total", "No.", "Tel.", "Fax.", "E-mail", "Page"])
        raise ValueError(f"unknown text kind {kind!r}")
