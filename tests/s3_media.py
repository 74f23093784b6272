"""Media on an S3-compatible server that the tests start: moto in server mode, read and
written through django-storages' S3 backend, on another origin than the site (as a
bucket or a CDN is). Under CI=true a missing package fails the run instead of skipping.
"""

import importlib
import logging
import os
import re
import threading
import uuid
from dataclasses import dataclass
from urllib.parse import unquote

import pytest

REGION = "us-east-1"
CREDENTIALS = {"access_key": "test", "secret_key": "test"}


def require(module):
    """``module``, or a skip (a failure under CI=true) naming what to install."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        message = (
            f"{module} is needed for the remote media tests ({error}): install the test "
            "extra (pip install -e '.[test]'), which has moto[server], boto3 and django-storages."
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message + " Under CI=true this is a failure, not a skip.")
        pytest.skip(message)


class RequestLog(logging.Handler):
    """Every request the S3 server answered, from the line it logs for each."""

    LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d+)')
    COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # werkzeug colours the lines of errors

    def __init__(self):
        super().__init__(level=logging.INFO)
        self._lock = threading.Lock()
        self.lines = []

    def emit(self, record):
        match = self.LINE.search(self.COLOUR.sub("", record.getMessage()))
        if match:
            with self._lock:
                self.lines.append(
                    (match["method"], unquote(match["path"]), int(match["status"]))
                )


@dataclass
class S3Server:
    endpoint: str
    log: RequestLog


@dataclass
class S3Media:
    """One bucket on the server, as the site's default storage."""

    server: S3Server
    bucket: str
    client: object
    _start: int = 0

    @property
    def origin(self):
        return self.server.endpoint

    def url(self, name):
        """The URL the storage gives ``name``."""
        return f"{self.origin}/{self.bucket}/{name}"

    def start_counting(self):
        self._start = len(self.server.log.lines)

    def requests(self):
        """(method, object key) of each request for this bucket's objects since
        ``start_counting``."""
        prefix = f"/{self.bucket}/"
        return [
            (method, path[len(prefix) :].split("?")[0])
            for method, path, _status in self.server.log.lines[self._start :]
            if path.startswith(prefix)
        ]

    def keys_read(self):
        """The object keys whose bytes were downloaded (GET), in order."""
        return [key for method, key in self.requests() if method == "GET"]


@pytest.fixture(scope="session")
def s3_server():
    """A moto S3 server on a free port of 127.0.0.1, for the whole session."""
    moto_server = require("moto.server")
    require("boto3")
    require("storages.backends.s3")
    logger = logging.getLogger("werkzeug")  # moto's server logs each request there
    log, level = RequestLog(), logger.level
    logger.addHandler(log)
    logger.setLevel(logging.INFO)
    server = moto_server.ThreadedMotoServer(
        ip_address="127.0.0.1", port=0, verbose=False
    )
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield S3Server(f"http://{host}:{port}", log)
    finally:
        server.stop()
        logger.removeHandler(log)
        logger.setLevel(level)


@pytest.fixture
def s3_media(s3_server, settings):
    """A public bucket answering CORS, as the site's default storage and declared media origin.

    A bucket per test: moto keeps its buckets in memory for the whole process.
    """
    boto3 = require("boto3")
    bucket = f"media-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS["access_key"],
        aws_secret_access_key=CREDENTIALS["secret_key"],
    )
    client.create_bucket(Bucket=bucket)
    # No credentials are sent: "*" also covers a document Wagtail redirects to, whose
    # request comes from the origin "null" after the redirect.
    client.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": ["*"],
                    "AllowedMethods": ["GET", "HEAD"],
                    "AllowedHeaders": ["*"],
                }
            ]
        },
    )
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": s3_server.endpoint,
                "region_name": REGION,
                **CREDENTIALS,
                # Unsigned URLs that never change, readable by anyone, as a media bucket's.
                "querystring_auth": False,
                "default_acl": "public-read",
                # Every test image is called example.jpg: keep them apart.
                "file_overwrite": False,
            },
        },
    }
    settings.WAGTAIL_OFFLINE_MEDIA_ORIGINS = [s3_server.endpoint]
    return S3Media(s3_server, bucket, client)
