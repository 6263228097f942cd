import pytest

from kocr_sdk import Engine, EngineConfig, KocrConfigError


def test_defaults():
    cfg = EngineConfig.load()
    assert cfg.device == "auto" and cfg.detector == "auto" and cfg.max_side == 4096


def test_yaml_file(tmp_path):
    p = tmp_path / "kocr.yaml"
    p.write_text("device: cpu\ndetector: fixed\nrecognizers:\n  hangul: vitstr-tiny\nbatch_size: 16\n")
    cfg = EngineConfig.load(p)
    assert cfg.device == "cpu" and cfg.recognizers == {"hangul": "vitstr-tiny"} and cfg.batch_size == 16


def test_env_overrides_yaml_and_keywords_override_env(tmp_path, monkeypatch):
    p = tmp_path / "kocr.yaml"
    p.write_text("device: cpu\nbatch_size: 16\n")
    monkeypatch.setenv("KOCR_BATCH_SIZE", "32")
    monkeypatch.setenv("KOCR_RECOGNIZERS__HANGUL", "from-env")
    cfg = EngineConfig.load(p)
    assert cfg.batch_size == 32 and cfg.device == "cpu" and cfg.recognizers == {"hangul": "from-env"}
    assert EngineConfig.load(p, batch_size=8).batch_size == 8


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
    assert e.config.max_side == 1000 and e.device == "cpu"
