"""A small web service around kocr: one Engine, built once, shared by every request.

Install and run (from the repository root)::

    pip install "kocr-sdk[examples]"          # or: pip install fastapi python-multipart uvicorn
    uvicorn examples.web_service.app:app --port 8000
    curl -F file=@kocr_sdk/data/sample_ko.png localhost:8000/read

Endpoints:

- ``POST /read``: an uploaded image or PDF (multipart field ``file``) -> the Document JSON.
- ``POST /read/pages``: the same, streamed: one Page JSON a line, each sent as soon as it is read
  (``Engine.iter_pages``), for long PDFs and TIFFs.
- ``GET /health``: the implementation each stage runs.

Why one Engine: building it loads the models (seconds, hundreds of MB); reading with it changes
no state, so request threads share it safely (SECURITY.md, "Concurrency"). FastAPI runs the
``def`` endpoints below in its thread pool; a semaphore keeps the number of pages read at once at
``KOCR_SERVICE_CONCURRENCY`` (default 1), since each read already uses every core torch is given
and more at once only adds memory. Errors a client can cause (an upload that is not an image, is
too large or is corrupt) are 4xx with kocr's message; a stage that fails is a 500 with its message.

The engine's config comes from ``KOCR_*`` environment variables and, if set, the YAML file
``KOCR_SERVICE_CONFIG`` names (docs/configuration.md).
"""

from __future__ import annotations

import json
import os
import threading
from contextlib import asynccontextmanager
from typing import Annotated, AsyncIterator, Iterator

from fastapi import FastAPI, File, HTTPException, UploadFile
from fastapi.responses import Response, StreamingResponse

from kocr_sdk import Engine, KocrError, KocrInputError, Page

#: Largest upload read, in bytes (``KOCR_SERVICE_MAX_UPLOAD_MB``, default 25 MB).
MAX_UPLOAD_BYTES = int(float(os.environ.get("KOCR_SERVICE_MAX_UPLOAD_MB", "25")) * 1024 * 1024)


def create_app(engine: Engine | None = None, *, max_upload_bytes: int = MAX_UPLOAD_BYTES,
               concurrency: int | None = None) -> FastAPI:
    """The service around ``engine``, or around an Engine built at start-up from the environment.

    Building it at start-up (not at import) lets a bad config stop the server before it takes a
    request, and lets tests hand in an Engine of their own.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "engine", None) is None:
            app.state.engine = Engine(os.environ.get("KOCR_SERVICE_CONFIG"))
        yield

    app = FastAPI(title="kocr", summary="Korean-first OCR: page images in, typed Documents out", lifespan=lifespan)
    app.state.engine = engine
    slots = threading.Semaphore(concurrency or int(os.environ.get("KOCR_SERVICE_CONCURRENCY", "1")))

    def shared_engine() -> Engine:
        if app.state.engine is None:  # started without the lifespan (a bare ASGI server call)
            app.state.engine = Engine(os.environ.get("KOCR_SERVICE_CONFIG"))
        return app.state.engine

    def upload(file: UploadFile) -> bytes:
        data = file.file.read(max_upload_bytes + 1)
        if len(data) > max_upload_bytes:
            raise HTTPException(413, f"{file.filename}: larger than {max_upload_bytes} bytes")
        if not data:
            raise HTTPException(422, f"{file.filename}: empty upload")
        return data

    def one_at_a_time(pages: Iterator[Page]) -> Iterator[Page]:
        """Each page read while holding one of the service's reading slots."""
        while True:
            with slots:
                page = next(pages, None)
            if page is None:
                return
            yield page

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "stages": shared_engine().describe()}

    @app.post("/read")
    def read(file: Annotated[UploadFile, File()]) -> Response:
        data = upload(file)
        try:
            with slots:
                doc = shared_engine().read(data)
        except KocrError as exc:
            raise _http_error(exc, file.filename) from exc
        return Response(doc.model_dump_json(), media_type="application/json")

    @app.post("/read/pages")
    def read_pages(file: Annotated[UploadFile, File()]) -> StreamingResponse:
        data = upload(file)
        pages = one_at_a_time(shared_engine().iter_pages(data))
        try:  # the first page before answering: an unreadable upload is still a 4xx
            first = next(pages, None)
        except KocrError as exc:
            raise _http_error(exc, file.filename) from exc

        def lines() -> Iterator[str]:
            if first is None:
                return
            yield first.model_dump_json() + "\n"
            try:
                for page in pages:
                    yield page.model_dump_json() + "\n"
            except KocrError as exc:  # the status is sent already: the error is the last line
                yield json.dumps({"error": str(exc)}, ensure_ascii=False) + "\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    return app


def _http_error(exc: KocrError, filename: str | None) -> HTTPException:
    """A client's bad upload is a 422; anything else kocr raises while reading is the server's 500."""
    message = str(exc).replace("<bytes>", filename or "upload")
    return HTTPException(422 if isinstance(exc, KocrInputError) else 500, message)


app = create_app()
