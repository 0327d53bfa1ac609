"""The static files storage of production: WhiteNoise's, compressing each content once.

collectstatic keeps every file twice, under its own name and under its hashed name, and
WhiteNoise compresses both (Brotli at its best quality, then gzip): the same bytes twice in most
cases, since only stylesheets that point to other files change when hashed. Compressing a
content once and writing it under both names gives the very same files in half the time (about
4 s of CPU for Django's admin scripts on each deployment)."""

import hashlib
import threading
from concurrent.futures import Future

from whitenoise.compress import Compressor
from whitenoise.storage import CompressedManifestStaticFilesStorage


class OnceCompressor(Compressor):
    """Compresses a given content once; collectstatic's threads asking again wait for it."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._lock = threading.Lock()
        self._results: dict[tuple[str, bytes], Future] = {}

    def _once(self, encoding: str, compress, data: bytes) -> bytes:
        key = (encoding, hashlib.sha256(data).digest())
        with self._lock:
            result = self._results.get(key)
            first = result is None
            if first:
                result = self._results[key] = Future()
        if first:
            try:
                result.set_result(compress(data))
            except BaseException as error:
                result.set_exception(error)
        return result.result()

    def compress_brotli(self, data: bytes) -> bytes:
        return self._once("br", Compressor.compress_brotli, data)

    def compress_gzip(self, data: bytes) -> bytes:
        return self._once("gzip", Compressor.compress_gzip, data)


class CompressedOnceManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    def create_compressor(self, **kwargs) -> Compressor:
        return OnceCompressor(**kwargs)
