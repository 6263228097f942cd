"""The web-service example (examples/web_service): one shared Engine behind HTTP endpoints."""

from __future__ import annotations

import importlib.util
import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image

pytest.importorskip("fastapi", reason="the web-service example needs FastAPI: pip install 'kocr-sdk[examples]'")
pytest.importorskip("python_multipart", reason="FastAPI's uploads need python-multipart: pip install 'kocr-sdk[examples]'")
pytest.importorskip("httpx", reason="FastAPI's TestClient needs httpx")

from fastapi.testclient import TestClient  # noqa: E402

from kocr_sdk import Document, Engine, Page  # noqa: E402

APP = Path(__file__).resolve().parent.parent / "examples" / "web_service" / "app.py"


def _example():
    spec = importlib.util.spec_from_file_location("kocr_web_service_example", APP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _png(size=(200, 100)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, format="PNG")
    return out.getvalue()


def _tiff(pages: int) -> bytes:
    out = io.BytesIO()
    frames = [Image.new("RGB", (200, 100), (255, 255 - 20 * i, 255)) for i in range(pages)]
    frames[0].save(out, format="TIFF", save_all=True, append_images=frames[1:])
    return out.getvalue()


@pytest.fixture
def client(fake_plugin):
    engine = Engine(plugins=[fake_plugin], load_entrypoints=False)
    app = _example().create_app(engine, max_upload_bytes=200_000, concurrency=2)
    with TestClient(app) as c:
        yield c


def test_an_uploaded_image_comes_back_as_the_document_json(client):
    reply = client.post("/read", files={"file": ("scan.png", _png(), "image/png")})
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/json"
    doc = Document.model_validate_json(reply.content)
    assert [w.text for w in doc.pages[0].words] == ["가나", "가나", "가나"]
    assert client.get("/health").json()["stages"]["detector"] == "fixed"


def test_the_shared_engine_serves_concurrent_requests_as_it_serves_one(client):
    alone = client.post("/read", files={"file": ("a.png", _png(), "image/png")}).json()
    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda _: client.post("/read", files={"file": ("a.png", _png(), "image/png")}),
                                range(8)))
    assert all(r.status_code == 200 for r in replies)

    def words(doc):
        return [[w["text"] for w in p["words"]] for p in doc["pages"]]

    assert all(words(r.json()) == words(alone) for r in replies)


def test_pages_of_a_long_file_are_streamed_one_json_line_each(client):
    reply = client.post("/read/pages", files={"file": ("long.tif", _tiff(3), "image/tiff")})
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("application/x-ndjson")
    pages = [Page.model_validate_json(line) for line in reply.text.splitlines()]
    assert [p.index for p in pages] == [0, 1, 2]


@pytest.mark.parametrize("path", ["/read", "/read/pages"])
def test_bad_uploads_are_4xx_with_kocr_s_message(client, path):
    reply = client.post(path, files={"file": ("notes.png", b"this is not an image", "image/png")})
    assert reply.status_code == 422
    detail = reply.json()["detail"]
    assert detail.startswith("notes.png") and "<bytes>" not in detail
    too_large = client.post(path, files={"file": ("big.png", b"\0" * 200_001, "image/png")})
    assert too_large.status_code == 413 and "larger than 200000 bytes" in too_large.json()["detail"]
    empty = client.post(path, files={"file": ("empty.png", b"", "image/png")})
    assert empty.status_code == 422 and "empty upload" in empty.json()["detail"]
    assert client.post(path).status_code == 422  # no file at all


def test_without_an_engine_given_one_is_built_when_the_server_starts(monkeypatch, tmp_path):
    config = tmp_path / "service.yaml"
    config.write_text("detector: none\n")
    monkeypatch.setenv("KOCR_SERVICE_CONFIG", str(config))
    module = _example()
    with TestClient(module.create_app()) as c:
        assert c.get("/health").json()["stages"]["detector"] == "disabled"
    monkeypatch.setenv("KOCR_SERVICE_CONFIG", str(tmp_path / "missing.yaml"))
    with pytest.raises(Exception, match="missing.yaml"):  # a bad config stops the server before any request
        with TestClient(module.create_app()):
            pass


def test_the_example_s_readme_names_its_endpoints():
    readme = (APP.parent / "README.md").read_text(encoding="utf-8")
    assert all(endpoint in readme for endpoint in ("POST /read", "POST /read/pages", "GET /health"))
