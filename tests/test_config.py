import pytest

from kocr_sdk import Engine, EngineConfig, KocrConfigError


def test_defaults():
    cfg = EngineConfig.load()
    assert cfg.compute.device == "auto" and cfg.implementation("detector") == "auto" and cfg.input.max_side == 4096


def test_yaml_file(tmp_path):
    p = tmp_path / "kocr.yaml"
    p.write_text("device: cpu\ndetector: fixed\nrecognizers:\n  hangul: vitstr-tiny\nbatch_size: 16\n")
    cfg = EngineConfig.load(p)
    assert cfg.compute.device == "cpu" and cfg.recognition.recognizers == {"hangul": "vitstr-tiny"}
    assert cfg.recognition.batch_size == 16


def test_env_overrides_yaml_and_keywords_override_env(tmp_path, monkeypatch):
    p = tmp_path / "kocr.yaml"
    p.write_text("device: cpu\nbatch_size: 16\n")
    monkeypatch.setenv("KOCR_BATCH_SIZE", "32")
    monkeypatch.setenv("KOCR_RECOGNIZERS__HANGUL", "from-env")
    cfg = EngineConfig.load(p)
    assert cfg.recognition.batch_size == 32 and cfg.compute.device == "cpu"
    assert cfg.recognition.recognizers == {"hangul": "from-env"}
    assert EngineConfig.load(p, batch_size=8).recognition.batch_size == 8


def test_errors_name_the_key_and_the_line(tmp_path):
    p = tmp_path / "kocr.yaml"
    p.write_text("device: cpu\n\nbatch_size: -3\n")
    with pytest.raises(KocrConfigError, match=r"kocr.yaml:3: batch_size: Input should be greater than or equal to 1"):
        EngineConfig.load(p)
    p.write_text("devise: cpu\n")
    with pytest.raises(KocrConfigError, match=r"kocr.yaml:1: devise: Extra inputs are not permitted"):
        EngineConfig.load(p)
    p.write_text("device: [cpu\n")
    with pytest.raises(KocrConfigError, match="not valid YAML"):
        EngineConfig.load(p)


def test_bad_env_value(monkeypatch):
    monkeypatch.setenv("KOCR_DEVICE", "tpu")
    with pytest.raises(KocrConfigError, match="environment.*device"):
        EngineConfig.load()


def test_missing_config_file(tmp_path):
    with pytest.raises(KocrConfigError, match="config file not found"):
        Engine(tmp_path / "nope.yaml", load_entrypoints=False)


def test_engine_from_yaml_path(tmp_path):
    p = tmp_path / "kocr.yaml"
    p.write_text("device: cpu\nmax_side: 1000\n")
    e = Engine(p, load_entrypoints=False)
    assert e.config.input.max_side == 1000 and e.device == "cpu"


def test_grouped_keys_in_a_file_the_environment_and_keywords(tmp_path, monkeypatch):
    p = tmp_path / "kocr.yaml"
    p.write_text("compute:\n  device: cpu\nrecognition:\n  batch_size: 16\n  recognizers: {hangul: a}\n")
    monkeypatch.setenv("KOCR_RECOGNITION__CROP_MARGIN", "0.2")
    cfg = EngineConfig.load(p, orientation={"probes": 4})
    assert cfg.compute.device == "cpu" and cfg.recognition.batch_size == 16 and cfg.recognition.crop_margin == 0.2
    assert cfg.orientation.probes == 4 and cfg.orientation.check is True  # a section's other keys keep defaults


def test_flat_and_grouped_names_mean_the_same_setting(tmp_path):
    flat = EngineConfig.load(None, device="cpu", max_side=1000, detector="none", recognizers={"latin": "x"})
    grouped = EngineConfig.load(None, compute={"device": "cpu"}, input={"max_side": 1000},
                                detection={"implementation": "none"}, recognition={"recognizers": {"latin": "x"}})
    assert flat == grouped


def test_an_error_under_a_grouped_key_names_it_and_its_line(tmp_path):
    p = tmp_path / "kocr.yaml"
    p.write_text("compute:\n  device: cpu\nrecognition:\n  batch_size: 0\n")
    with pytest.raises(KocrConfigError, match=r"kocr.yaml:4: recognition.batch_size: Input should be greater"):
        EngineConfig.load(p)


def test_the_configuration_reference_is_generated_from_the_code():
    from pathlib import Path

    from kocr_sdk.cli.config import reference_markdown

    docs = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
    assert docs.read_text() == reference_markdown(), "regenerate: kocr config reference > docs/configuration.md"


def test_kocr_config_show_prints_the_effective_settings(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from kocr_sdk.cli.main import cli

    monkeypatch.setenv("KOCR_DEVICE", "cpu")
    result = CliRunner().invoke(cli, ["config", "show", "--json"])
    assert result.exit_code == 0
    import json

    assert json.loads(result.output)["compute"]["device"] == "cpu"
