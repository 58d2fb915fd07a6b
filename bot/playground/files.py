"""Files the bot uploads to the playground, as Slack's files upload v2 takes them: announced,
their bytes POSTed to an unguessable upload URL, then shared; the page shows PNGs inline.
Bounded: the newest few, each a few MB at most."""

from __future__ import annotations

import secrets
from collections import OrderedDict

from aiohttp import web

from bot.playground.workspace import Upload

MAX_FILES = 50
MAX_BYTES = 5 * 1024 * 1024
PNG = b"\x89PNG\r\n\x1a\n"
UPLOAD_PATH = "/playground/upload/"
FILE_PATH = "/playground/files/"


class FileRefused(Exception):
    """What Slack would answer instead (`error`)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class Files:
    """The uploads of this run, oldest dropped first."""

    def __init__(self, base_url: str) -> None:
        self._base = base_url.rstrip("/")
        self._files: OrderedDict[str, Upload] = OrderedDict()

    def announce(self, filename: str, length: str, alt: str) -> tuple[Upload, str]:
        """files.getUploadURLExternal: a new upload and the URL its bytes go to."""
        if not filename or not length.isdigit():
            raise FileRefused("invalid_arguments")
        if not 0 < int(length) <= MAX_BYTES:
            raise FileRefused("file_too_large" if int(length) else "invalid_arguments")
        upload = Upload(f"F{secrets.token_hex(12).upper()}", filename, int(length), alt[:1000])
        self._files[upload.id] = upload
        while len(self._files) > MAX_FILES:
            self._files.popitem(last=False)
        return upload, f"{self._base}{UPLOAD_PATH}{upload.id}"

    def complete(self, listed: object) -> list[tuple[Upload, str]]:
        """files.completeUploadExternal's `files`: each uploaded file and its title."""
        if not isinstance(listed, list) or not listed:
            raise FileRefused("invalid_arguments")
        found = []
        for item in listed:
            upload = self._files.get(str(item.get("id"))) if isinstance(item, dict) else None
            if upload is None or upload.data is None:
                raise FileRefused("file_not_found")
            title = item.get("title") if isinstance(item, dict) else None
            found.append((upload, str(title or upload.filename)))
        return found

    @staticmethod
    def url(upload: Upload) -> str:
        """Where the page loads the file from (same origin)."""
        return f"{FILE_PATH}{upload.id}"

    async def receive(self, request: web.Request) -> web.Response:
        """The upload URL: the bytes, once, exactly as long as announced."""
        upload = self._files.get(request.match_info["file_id"])
        if upload is None or upload.data is not None:
            return web.Response(status=404, text="unknown upload")
        if request.content_length is not None and request.content_length > upload.length:
            return web.Response(status=413, text="longer than announced")
        data = bytearray()
        async for chunk in request.content.iter_chunked(64 * 1024):
            data += chunk
            if len(data) > upload.length:
                return web.Response(status=413, text="longer than announced")
        if len(data) != upload.length:
            return web.Response(status=400, text="not the length announced")
        upload.data = bytes(data)
        return web.Response(text=f"OK - {len(data)}")

    async def serve(self, request: web.Request) -> web.Response:
        """The file for the page: a PNG as an image, anything else only as a download."""
        upload = self._files.get(request.match_info["file_id"])
        if upload is None or upload.data is None:
            raise web.HTTPNotFound()
        headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"}
        if upload.data.startswith(PNG):
            return web.Response(body=upload.data, content_type="image/png", headers=headers)
        headers["Content-Disposition"] = "attachment"
        return web.Response(
            body=upload.data, content_type="application/octet-stream", headers=headers
        )
