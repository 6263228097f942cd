"""The character tokenizer of kocr's NER model, built with Hugging Face ``tokenizers``.

Why characters: OCR text has no reliable word boundaries (spaces drop out, words split) and its
errors are single characters; a subword vocabulary learned on clean text shatters a misread
word into rare pieces, while a character vocabulary sees one changed token. Korean needs no
more than its 2,350 KS X 1001 syllables plus what documents print around them, so the
vocabulary stays small (an embedding table of a few thousand rows).

Spaces are tokens: they tell the model where the OCR words are. Text is NFC-normalised first
(decomposed jamo from a PDF text layer become syllables); offsets still point into the text
as given. The tokenizer is saved as a standard ``tokenizer.json`` beside the model, so the
model directory loads with ``AutoTokenizer`` like any Hugging Face model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

from ..vocabulary.charsets import DOC_SYMBOLS, PRINTABLE_ASCII, ks_x_1001_hangul

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def base_alphabet() -> str:
    """Characters the vocabulary always holds, seen in training or not: Hangul, ASCII, document symbols."""
    return ks_x_1001_hangul() + PRINTABLE_ASCII + DOC_SYMBOLS + " ￦："


def _empty_tokenizer(vocab: dict[str, int] | None = None) -> Tokenizer:
    tok = Tokenizer(models.WordLevel(vocab or {t: i for i, t in enumerate(SPECIAL_TOKENS)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("[\\s\\S]"), behavior="isolated")
    tok.decoder = decoders.Fuse()
    return tok


def train_char_tokenizer(texts: Iterable[str], max_vocab: int = 4000, min_frequency: int = 2) -> Tokenizer:
    """A character vocabulary: the base alphabet, then the most frequent other characters of ``texts``."""
    tok = _empty_tokenizer()
    trainer = trainers.WordLevelTrainer(vocab_size=max_vocab, min_frequency=min_frequency,
                                        special_tokens=list(SPECIAL_TOKENS))
    alphabet = base_alphabet()
    # The base alphabet goes in as many copies as min_frequency, so every character of it is kept.
    tok.train_from_iterator([*[alphabet] * min_frequency, *texts], trainer=trainer)
    vocab = tok.get_vocab()
    missing = [c for c in dict.fromkeys(alphabet) if c not in vocab]
    if missing:
        tok.add_tokens(missing)
    return _with_template(tok)


def _with_template(tok: Tokenizer) -> Tokenizer:
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]", special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)]
    )
    return tok


def save_tokenizer(tok: Tokenizer, directory: Path, model_max_length: int) -> None:
    """Write ``tokenizer.json`` and the config files ``AutoTokenizer`` reads."""
    from transformers import PreTrainedTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=model_max_length)
    fast.save_pretrained(str(directory))


def load_tokenizer(path: Path) -> Tokenizer:
    """The raw ``tokenizers`` object of a saved ``tokenizer.json`` (or of the directory holding it)."""
    path = Path(path)
    return Tokenizer.from_file(str(path / "tokenizer.json" if path.is_dir() else path))
