"""Training text for NER: the lines OCR reads off Korean and English forms, with entity spans.

Entity values come from the same :class:`~kocr_sdk.lab.synth.text.TextSource` that prints the
synthetic pages (Faker ``ko_KR``/``en_US`` names, companies and addresses; dates, amounts, phone
numbers, 사업자등록번호 and 주민등록번호 with valid check digits), so NER learns the very forms
the recogniser is trained to read. Around them, a line is one of the shapes OCR lines take:

- ``kv``: a key and its value (``사업자등록번호: 124-81-00998``), sometimes two pairs in a row;
- ``value``: a value alone — clustering often separates a value from a key far to its left;
- ``sentence``: Korean or English prose with entities inside (contracts, notices);
- ``form``: short runs of form words, numbers and symbols with a few entities (receipt rows,
  titles, table rows).

Fillers never look like an entity out of context (no comma-grouped numbers, no bare ``2021년``),
so that a span's label is decidable from the line. A line is then passed through
:func:`~kocr_sdk.lab.synth.ocr_noise.add_ocr_noise` with probability ``noise_prob``.

``NerGenerator(seed).sample(i)`` is a pure function of ``(seed, i)``: the training stream is
resumable from a sample index and the held-out set is another seed.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from ...ids import luhn_check_digit
from .text import KIND_ENTITY, TextSource
from .ocr_noise import NoiseConfig, add_ocr_noise

Span = tuple[int, int, str]

#: Kinds of entity value the generator draws, with their weights.
ENTITY_KINDS: dict[str, float] = {
    "person": 1.4, "org": 1.4, "address": 1.2, "date": 1.5, "amount": 1.5, "phone": 1.3, "email": 0.8, "url": 0.7,
    "biz_reg_no": 1.1, "rrn": 1.0, "card": 0.7,
}
_FILLER_KINDS = ("ko_word", "ko_word", "ko_word", "en_word", "mixed", "number", "symbol", "ko_rare")
_AMBIGUOUS = re.compile(r"^[-(]?\d{1,3}(,\d{3})+(\.\d+)?\)?$|^\d+(년|월|일)$|^\d{4}$")
_SEPARATORS = (": ", ":", " ", " : ", "  ", " | ", "：", " - ", ": ", " ")
_PAIR_GLUE = ("  ", " ", " | ", " / ", "   ")
_TITLES = ("세금계산서", "영수증", "거래명세서", "사업자등록증", "견적서", "청구서", "계약서", "신청서", "INVOICE", "RECEIPT",
           "Statement", "Quotation", "간이영수증", "현금영수증", "카드매출전표", "(공급자 보관용)", "(공급받는자 보관용)")
_CARD_PREFIXES = ("4", "5", "9410", "3", "6")


@dataclass
class NerExample:
    """One line of text and its entity spans (start, end, label), end exclusive, sorted."""

    text: str
    spans: list[Span] = field(default_factory=list)
    shape: str = ""

    def entities(self) -> list[tuple[str, str]]:
        """(label, text) of each span — what a reader checks by eye."""
        return [(label, self.text[s:e]) for s, e, label in self.spans]


class _LineBuilder:
    """Appends pieces to a line, recording where the labelled ones start and end."""

    def __init__(self) -> None:
        self.text = ""
        self.spans: list[Span] = []

    def add(self, piece: str, label: str | None = None, sep: str = " ") -> None:
        if not piece:
            return
        if self.text and sep:
            self.text += sep
        start = len(self.text)
        self.text += piece
        if label is not None:
            self.spans.append((start, len(self.text), label))


def make_card_number(rng: random.Random) -> str:
    """A card number as printed: 16 digits with a valid Luhn check, in groups, sometimes masked."""
    prefix = rng.choice(_CARD_PREFIXES)
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(15 - len(prefix)))
    digits = body + str(luhn_check_digit(body))
    r = rng.random()
    if r < 0.3:
        digits = digits[:6] + "******" + digits[12:] if rng.random() < 0.5 else digits[:4] + "********" + digits[12:]
    groups = [digits[i:i + 4] for i in range(0, 16, 4)]
    return rng.choice(("-".join(groups), " ".join(groups), "".join(groups), "-".join(groups)))


class NerGenerator:
    """Lines of form-like text with entity spans; ``sample(i)`` is pure in ``(seed, i)``."""

    def __init__(self, seed: int = 0, noise_prob: float = 0.5, noise: NoiseConfig | None = None) -> None:
        self.seed = seed
        self.noise_prob = noise_prob
        self.noise = noise or NoiseConfig()
        self.source = TextSource()
        self._kinds = list(ENTITY_KINDS)
        self._weights = [ENTITY_KINDS[k] for k in self._kinds]

    def sample(self, index: int) -> NerExample:
        rng = random.Random(f"kocr-ner:{self.seed}:{index}")
        shape = rng.choices(("kv", "value", "sentence", "form"), (0.36, 0.2, 0.17, 0.27))[0]
        lang = "ko" if rng.random() < 0.7 else "en"
        line = _LineBuilder()
        getattr(self, f"_shape_{shape}")(rng, lang, line)
        text, spans = line.text, line.spans
        if rng.random() < self.noise_prob:
            text, spans = add_ocr_noise(text, spans, rng, self.noise)
        return NerExample(text, spans, shape)

    def clean_and_noisy(self, index: int) -> tuple[NerExample, NerExample]:
        """The same line without and with noise (for measuring what noise costs)."""
        clean = NerGenerator(self.seed, 0.0, self.noise).sample(index)
        noisy_rng = random.Random(f"kocr-ner-noise:{self.seed}:{index}")
        text, spans = add_ocr_noise(clean.text, clean.spans, noisy_rng, self.noise)
        return clean, NerExample(text, spans, clean.shape)

    # -- pieces --------------------------------------------------------------------------------
    def _kind(self, rng: random.Random) -> str:
        return rng.choices(self._kinds, self._weights)[0]

    def _value(self, rng: random.Random, kind: str, lang: str) -> tuple[str, str]:
        if kind == "card":
            return make_card_number(rng), "CARD"
        phrase = self.source.phrase(rng, kind, lang if rng.random() < 0.8 else None)
        return phrase.text, KIND_ENTITY[kind]

    def _filler(self, rng: random.Random, lang: str) -> str:
        for _ in range(20):
            kind = rng.choice(_FILLER_KINDS) if lang == "ko" else rng.choice(("en_word", "en_word", "en_word", "mixed",
                                                                              "number", "symbol"))
            text = self.source.word(rng, kind, lang)
            if not _AMBIGUOUS.match(text):
                return text
        return "및" if lang == "ko" else "and"

    # -- shapes --------------------------------------------------------------------------------
    def _shape_kv(self, rng: random.Random, lang: str, line: _LineBuilder) -> None:
        for _pair in range(2 if rng.random() < 0.25 else 1):
            kind = self._kind(rng)
            key = self.source.key_label(rng, "card" if kind == "card" else kind, lang)
            if rng.random() < 0.1:
                key = f"{rng.randint(1, 9)}. {key}" if rng.random() < 0.5 else f"[{key}]"
            value, label = self._value(rng, kind, lang)
            line.add(key, sep=rng.choice(_PAIR_GLUE))
            line.add(value, label, sep=rng.choice(_SEPARATORS))
            if rng.random() < 0.1:
                line.add(rng.choice(("(인)", "(서명)", "(VAT포함)", "원", "귀하", "外")), sep=rng.choice(("", " ")))

    def _shape_value(self, rng: random.Random, lang: str, line: _LineBuilder) -> None:
        value, label = self._value(rng, self._kind(rng), lang)
        line.add(value, label)

    def _shape_sentence(self, rng: random.Random, lang: str, line: _LineBuilder) -> None:
        n = rng.randint(3, 12)
        entities = set(rng.sample(range(n), k=min(n, rng.choice((0, 1, 1, 2, 2, 3)))))
        for i in range(n):
            if i in entities:
                value, label = self._value(rng, self._kind(rng), lang)
                line.add(value, label)
                if lang == "ko" and rng.random() < 0.5:
                    line.add(rng.choice(("에", "의", "은", "는", "을", "를", "로", "에서", "까지", "부터")), sep="")
            else:
                word = self.source.word(rng, "ko_word" if lang == "ko" else "en_word", lang)
                line.add(word.capitalize() if lang == "en" and i == 0 else word)
        if rng.random() < 0.7:
            line.add(rng.choice(("합니다.", "입니다.", "바랍니다.", "됩니다.")) if lang == "ko" else ".",
                     sep=" " if lang == "ko" else "")

    def _shape_form(self, rng: random.Random, lang: str, line: _LineBuilder) -> None:
        if rng.random() < 0.15:
            line.add(rng.choice(_TITLES))
        n = rng.randint(1, 6)
        entities = set(rng.sample(range(n), k=min(n, rng.choice((0, 1, 1, 1, 2)))))
        for i in range(n):
            if i in entities:
                value, label = self._value(rng, self._kind(rng), lang)
                line.add(value, label, sep=rng.choice((" ", " ", "  ", " : ")))
            else:
                line.add(self._filler(rng, lang), sep=rng.choice((" ", " ", " ", "  ", "")) if line.text else "")
