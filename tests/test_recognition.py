import numpy as np
import pytest
import torch

from kocr_sdk.recognition.charset import Charset, compose, decompose, hangul_charset, latin_charset
from kocr_sdk.recognition.preprocess import batch_tensors, normalise
from kocr_sdk.recognition.architectures import create_model, list_architectures
from kocr_sdk.recognition.vitstr import greedy_decode
from kocr_sdk.weights_file import write_weights


@pytest.mark.parametrize("text", ["사업자등록증", "각아", "뷁", "(주)한빛 2019년", "TEL 02-555-0123", "㈜₩1,000원", "값없음"])
def test_hangul_charset_round_trip(text):
    cs = hangul_charset()
    assert cs.decode(cs.encode(text))[0] == text


def test_every_syllable_round_trips():
    cs = hangul_charset()
    syllables = "".join(chr(c) for c in range(0xAC00, 0xD7A4))
    assert cs.decode(cs.encode(syllables))[0] == syllables
    assert decompose(compose(18, 20, 27)) == (18, 20, 27)


def test_out_of_charset_characters_are_reported_not_dropped():
    cs = latin_charset()
    assert cs.unknown("abc한글中") == ["한", "글", "中"]
    with pytest.raises(ValueError, match="outside charset 'latin': '한글'"):
        cs.encode("a한글")


def test_decode_confidence_of_a_syllable_is_its_weakest_jamo():
    cs = hangul_charset()
    ids = cs.encode("각")
    text, confs = cs.decode(ids, [0.9, 0.5, 0.8])
    assert text == "각" and confs == [0.5]


def test_stray_jamo_are_dropped():
    cs = hangul_charset()
    medial = cs.index["<M0>"]
    assert cs.decode([medial, cs.index["A"]])[0] == "A"


def test_whitespace_collapses_to_one_space():
    cs = Charset("t", "ab")
    assert cs.decode(cs.encode("a   b "))[0] == "a b"


def test_greedy_decode_collapses_repeats_and_blanks():
    cs = Charset("t", "ab")
    a, b = cs.index["a"], cs.index["b"]
    seq = [a, a, 0, a, b, b, 0]
    logits = torch.full((1, len(seq), len(cs)), -10.0)
    for t, k in enumerate(seq):
        logits[0, t, k] = 10.0
    text, conf, _ = greedy_decode(logits, torch.tensor([len(seq)]), cs)[0]
    assert text == "aab" and conf > 0.99
    # frames beyond the valid length are ignored
    assert greedy_decode(logits, torch.tensor([3]), cs)[0][0] == "a"


def test_normalise_keeps_aspect_and_inverts_dark_on_light():
    crop = np.full((64, 200, 3), 250, np.uint8)
    crop[20:40, 20:180] = 10
    img = normalise(crop)
    assert img.shape == (32, 100) and img.dtype == np.float32
    assert img[15, 50] > 0.9 and img[2, 2] < 0.1


@pytest.mark.parametrize("arch", ["vitstr-tiny", "crnn-sa"])
def test_padding_into_a_wider_bucket_does_not_change_the_output(arch):
    torch.manual_seed(0)
    cs = hangul_charset()
    model = create_model(arch, len(cs)).eval()
    img = np.random.default_rng(0).random((32, 96)).astype(np.float32)
    x1, w1 = batch_tensors([img])
    x2, w2 = batch_tensors([img], pad_to=256)
    with torch.no_grad():
        a = model(x1, w1)[0, :24]
        b = model(x2, w2)[0, :24]
    assert torch.allclose(a, b, atol=1e-5)


def test_syllable_baseline_charset_has_the_2350_ks_x_1001_syllables():
    from kocr_sdk.recognition.charset import hangul_syllable_charset, ks_x_1001_syllables

    syllables = ks_x_1001_syllables()
    assert len(syllables) == 2350 and "가" in syllables and "뷁" not in syllables
    cs = hangul_syllable_charset()
    assert cs.decode(cs.encode("사업자 등록"))[0] == "사업자 등록"
    assert cs.unknown("뷁") == ["뷁"]


def test_architectures_share_one_interface():
    assert {"vitstr-tiny", "vitstr-small", "crnn-sa"} <= set(list_architectures())
    with pytest.raises(ValueError, match="known"):
        create_model("no-such-net", 10)
    x, widths = batch_tensors([np.zeros((32, 40), np.float32), np.zeros((32, 96), np.float32)])
    for arch in ("vitstr-tiny", "crnn-sa"):
        model = create_model(arch, 50).eval()
        with torch.no_grad():
            out = model(x, widths)
        assert out.shape == (2, 24, 50)
        assert model.frames(widths).tolist() == [10, 24]


def test_cnn_baseline_reads_crops_wider_than_vitstr_positions(tmp_path):
    """The AS-IS baseline takes any width (no learned positions) and stays fp32 by default."""
    from kocr_sdk.recognition.stage import CtcRecognizer

    cs = hangul_charset()
    model = create_model("crnn-sa", len(cs))
    state = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    write_weights(tmp_path / "w.safetensors", state, {"arch": "crnn-sa", "charset": cs.name, "max_width": 256})
    rec = CtcRecognizer(weights=str(tmp_path / "w.safetensors"))
    assert rec.max_width >= 1024
    assert not any("quantized" in type(m).__module__ for m in rec.model.modules())
    readings = rec.recognize([np.full((32, 900, 3), 255, np.uint8)])
    assert len(readings) == 1 and 0.0 <= readings[0].confidence <= 1.0


def test_init_from_copies_the_encoder_and_the_head_rows_of_shared_tokens(tmp_path):
    from kocr_sdk.lab.training.recognizer import init_from_weights

    hangul, latin = hangul_charset(), latin_charset()
    torch.manual_seed(0)
    source = create_model("vitstr-tiny", len(hangul))
    path = tmp_path / "hangul.safetensors"
    write_weights(path, {k: v.half() for k, v in source.state_dict().items()}, {"arch": "vitstr-tiny", "charset": "hangul"})
    torch.manual_seed(1)
    target = create_model("vitstr-tiny", len(latin))
    report = init_from_weights(target, latin, path)
    assert report["skipped"] == 0
    shared = [t for t in latin.tokens if t in hangul.index]
    assert report["head_rows"] == len(shared) and len(shared) > 90
    a = latin.index["A"]
    assert torch.allclose(target.head.weight[a], source.head.weight[hangul.index["A"]].half().float())
    assert torch.allclose(target.embed.weight, source.embed.weight.half().float())
    unshared = [t for t in latin.tokens if t not in hangul.index]
    for t in unshared:  # rows with no counterpart keep their own initialisation
        assert not torch.allclose(target.head.weight[latin.index[t]], torch.zeros_like(target.head.weight[0]))


def test_normalise_of_uint8_crops_is_bit_identical_to_its_numpy_definition():
    from kocr_sdk.recognition.preprocess import normalise_reference
    from kocr_sdk.lab.synth.crops import CropGenerator

    rng = np.random.default_rng(1)
    crops = [CropGenerator("heldout", 11, profile="script", color=c).sample(i)[0] for c in (False, True) for i in range(60)]
    for _ in range(150):
        h, w = int(rng.integers(1, 80)), int(rng.integers(1, 600))
        crops += [rng.integers(0, 256, (h, w, 3), dtype=np.uint8), np.full((h, w), int(rng.integers(0, 256)), np.uint8),
                  (rng.random((h, w)) < 0.1).astype(np.uint8) * 255, rng.integers(100, 103, (h, w), dtype=np.uint8)]
    crops.append(rng.random((20, 50)).astype(np.float32))  # not uint8: the definition itself
    for crop in crops:
        for max_width in (256, 512):
            want, got = normalise_reference(crop, 32, max_width), normalise(crop, 32, max_width)
            assert got.dtype == want.dtype and np.array_equal(got, want), crop.shape


def _recogniser_file(path, stage=None, charset="latin", arch="vitstr-tiny"):
    from kocr_sdk.recognition.charset import CHARSETS

    model = create_model(arch, len(CHARSETS[charset]()))
    meta = {"arch": arch, "charset": charset, "max_width": 128}
    if stage is not None:
        meta["stage"] = stage
    write_weights(path, {k: v.half() for k, v in model.state_dict().items()}, meta)
    return path


def test_a_weights_file_that_describes_a_new_script_serves_it_with_no_code(tmp_path):
    """Dropping a file into a weights folder is enough: its `stage` block names the scripts it reads."""
    from kocr_sdk import Engine, hookimpl
    from kocr_sdk.recognition.stage import recognizers_in

    _recogniser_file(tmp_path / "thai-ocr.safetensors",
                     {"name": "thai-ocr", "scripts": ["thai"], "priority": 2, "description": "test weights"})
    _recogniser_file(tmp_path / "plain-latin.safetensors")  # older file: described from its charset
    (tmp_path / "notes.safetensors").write_bytes(b"not weights")  # skipped, not fatal
    found = {cls.name: cls for cls in recognizers_in(tmp_path)}
    assert set(found) == {"thai-ocr", "plain-latin"}
    assert found["thai-ocr"].scripts == ("thai",) and found["thai-ocr"].priority == 2
    assert found["plain-latin"].scripts == ("latin", "digits")

    class Plugin:
        @hookimpl
        def register_recognizers(self, register):
            for cls in recognizers_in(tmp_path):
                register(cls)

    engine = Engine(plugins=[Plugin()], load_entrypoints=False)
    assert engine.recognizer_for("thai").name == "thai-ocr"
    rec = engine._instance(engine.recognizer_for("thai"))
    assert rec.max_width == 128  # the file's own preprocessing setting, not a default in code


def test_a_bad_stage_block_is_a_clear_error(tmp_path):
    from kocr_sdk.errors import KocrModelError
    from kocr_sdk.recognition.spec import spec_of
    from kocr_sdk.weights_file import read_meta

    path = _recogniser_file(tmp_path / "w.safetensors", {"scripts": []})
    with pytest.raises(KocrModelError, match="invalid `stage` block"):
        spec_of(path, read_meta(path, "recogniser"))


def test_exported_recogniser_weights_carry_their_stage_block(tmp_path):
    """The trainer's export writes what the engine builds the stage from, so the file serves alone."""
    from kocr_sdk.lab.training.recognizer import export_weights
    from kocr_sdk.recognition.stage import recognizers_in
    from kocr_sdk.weights_file import read_meta

    cs = latin_charset()
    model = create_model("vitstr-tiny", len(cs))
    checkpoint = tmp_path / "last.pt"
    torch.save({"model": model.state_dict(), "arch": "vitstr-tiny", "charset": cs.name, "step": 3, "samples_seen": 192,
                "config": {"max_width": 192}, "history": []}, checkpoint)
    out = tmp_path / "weights" / "my-latin.safetensors"
    export_weights(checkpoint, out)
    stage = read_meta(out, "recogniser")["stage"]
    assert stage["name"] == "my-latin" and stage["scripts"] == ["latin", "digits"] and stage["max_width"] == 192
    (cls,) = recognizers_in(out.parent)
    assert cls.name == "my-latin" and cls.scripts == ("latin", "digits")
