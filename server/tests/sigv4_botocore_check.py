#!/usr/bin/python3
"""Cross-checks the C SigV4 presigner (tests/tools/sigv4_cli) against botocore.

usage: /usr/bin/python3 sigv4_botocore_check.py PATH/TO/sigv4_cli [SEED]

Generates a few dozen requests deterministically, presigns each with sigv4_cli and with
botocore.auth.S3SigV4QueryAuth under a frozen clock, and compares the two URLs: scheme,
host, encoded path and every query parameter (raw, still encoded) including
X-Amz-Signature. Exits 0 when all agree, 1 on any mismatch, 77 (skipped) when botocore
is not installed.
"""
import base64
import datetime
import hashlib
import random
import subprocess
import sys
import types
from unittest import mock
from urllib.parse import quote, urlsplit

SKIPPED = 77
CASES = 48
DEFAULT_SEED = 20130524

try:
    import botocore
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError:
    print("SKIPPED: botocore is not installed for %s "
          "(apt-get install python3-botocore)" % sys.executable)
    sys.exit(SKIPPED)


class RecordingAuth(botocore.auth.S3SigV4QueryAuth):
    """S3SigV4QueryAuth that keeps its canonical request and string to sign."""

    canonical = to_sign = None

    def canonical_request(self, request):
        self.canonical = super().canonical_request(request)
        return self.canonical

    def string_to_sign(self, request, canonical_request):
        self.to_sign = super().string_to_sign(request, canonical_request)
        return self.to_sign


def frozen_clock(unix_time):
    """Patches every clock botocore.auth may read (this botocore uses
    datetime.datetime.utcnow(); newer ones have get_current_datetime())."""
    naive = datetime.datetime.fromtimestamp(unix_time, datetime.timezone.utc).replace(tzinfo=None)

    class Frozen(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return naive

        @classmethod
        def now(cls, tz=None):
            return naive if tz is None else naive.replace(tzinfo=datetime.timezone.utc).astimezone(tz)

    fake = types.SimpleNamespace(**{k: getattr(datetime, k) for k in dir(datetime) if not k.startswith("__")})
    fake.datetime = Frozen
    patches = [mock.patch.object(botocore.auth, "datetime", fake)]
    if hasattr(botocore.auth, "get_current_datetime"):
        patches.append(mock.patch.object(botocore.auth, "get_current_datetime",
                                         lambda *a, **k: naive))
    return patches


def botocore_presign(case):
    creds = Credentials(case["access_key"], case["secret"], case["token"])
    auth = RecordingAuth(creds, "s3", case["region"], expires=case["expires"])
    url = "%s://%s%s" % (case["scheme"], case["host"], quote(case["path"].encode("utf-8"), safe="/~"))
    request = AWSRequest(method=case["method"], url=url, headers=dict(case["headers"]),
                         params=dict(case["query"]))
    patches = frozen_clock(case["time"])
    for p in patches:
        p.start()
    try:
        auth.add_auth(request)
    finally:
        for p in reversed(patches):
            p.stop()
    return request.url, auth


def cli_args(case, debug=False):
    args = ["--debug"] if debug else []
    args += [case["method"], case["scheme"], case["host"], case["path"], case["region"],
             case["access_key"], case["secret"], case["token"] or "-", str(case["time"]),
             str(case["expires"])]
    for name, value in case["headers"]:
        args += ["-H", "%s:%s" % (name, value)]
    for name, value in case["query"]:
        args += ["-Q", "%s=%s" % (name, value)]
    return [a.encode("utf-8") for a in args]


def c_presign(cli, case, debug=False):
    proc = subprocess.run([cli] + cli_args(case, debug), capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError("sigv4_cli exited %d: %s" % (proc.returncode, proc.stderr.decode(errors="replace")))
    return proc.stdout.decode().strip(), proc.stderr.decode(errors="replace")


def normalized_netloc(scheme, netloc):
    netloc = netloc.lower()
    default = {"https": ":443", "http": ":80"}[scheme]
    return netloc[:-len(default)] if netloc.endswith(default) else netloc


def raw_params(query):
    return sorted(tuple(p.split("=", 1)) if "=" in p else (p, "") for p in query.split("&"))


def compare(c_url, b_url):
    """Returns a list of differences between the two URLs (empty when they agree)."""
    c, b = urlsplit(c_url), urlsplit(b_url)
    diffs = []
    if c.scheme != b.scheme:
        diffs.append("scheme: C %r, botocore %r" % (c.scheme, b.scheme))
    if normalized_netloc(c.scheme, c.netloc) != normalized_netloc(b.scheme, b.netloc):
        diffs.append("host: C %r, botocore %r" % (c.netloc, b.netloc))
    if c.path != b.path:
        diffs.append("path: C %r, botocore %r" % (c.path, b.path))
    cp, bp = raw_params(c.query), raw_params(b.query)
    if cp != bp:
        cd, bd = dict(cp), dict(bp)
        for name in sorted(set(cd) | set(bd)):
            if cd.get(name) != bd.get(name):
                diffs.append("query %s: C %r, botocore %r" % (name, cd.get(name), bd.get(name)))
        if not diffs:
            diffs.append("query pairs: C %r, botocore %r" % (cp, bp))
    if not c.query.split("&")[-1].startswith("X-Amz-Signature="):
        diffs.append("X-Amz-Signature is not the last parameter of the C URL")
    return diffs


# ---- deterministic case generation ----

SEGMENT_PIECES = (list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") * 3
                  + list(" -_.~!$&'()*+,;=:@%?#[]{}\"<>^`|\\") + [" ", "  ", "é", "ü", "日本", "🎙", "ß", "Ω"])
TEXT_PIECES = SEGMENT_PIECES + ["/", "=", "&", "+", ""]
HOSTS = [("https", "examplebucket.s3.amazonaws.com"), ("https", "s3.eu-west-2.amazonaws.com"),
         ("http", "127.0.0.1:4568"), ("http", "localhost:9000"), ("http", "[::1]:9000"),
         ("https", "Minio.Example.COM:443"), ("http", "storage.local:80"),
         ("https", "acc0unt.r2.cloudflarestorage.com")]
REGIONS = ["us-east-1", "eu-west-2", "ap-southeast-2", "eu-central-1", "auto", "garage", "us-gov-west-1"]
CONTENT_TYPES = ["audio/webm;codecs=opus", "video/webm", "application/octet-stream", "image/png",
                 "  text/plain;   charset=utf-8  ", "audio/ogg; codecs=\"opus\""]
QUERY_NAMES = ["partNumber", "uploadId", "response-content-type", "response-content-disposition",
               "versionId", "x-id", "prefix", "weird name/ü", "a~b", "empty"]
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def text(rng, pieces, lo, hi):
    return "".join(rng.choice(pieces) for _ in range(rng.randint(lo, hi)))


def random_path(rng):
    segments = [text(rng, SEGMENT_PIECES, 1, 12) for _ in range(rng.randint(1, 4))]
    if rng.random() < 0.15:
        segments.insert(rng.randrange(len(segments)), "")  # an empty segment: "//"
    return "/" + "/".join(segments)


def random_headers(rng, method):
    headers = []
    if method in ("PUT", "POST") or rng.random() < 0.2:
        headers.append(("content-type", rng.choice(CONTENT_TYPES)))
    if method == "PUT" and rng.random() < 0.7:
        digest = hashlib.sha256(rng.randbytes(32)).digest()
        headers.append(("x-amz-checksum-sha256", base64.b64encode(digest).decode()))
    if rng.random() < 0.25:
        headers.append(("x-amz-content-sha256",
                        rng.choice(["UNSIGNED-PAYLOAD", hashlib.sha256(rng.randbytes(8)).hexdigest()])))
    if rng.random() < 0.3:
        headers.append(("x-amz-meta-title", text(rng, SEGMENT_PIECES + ["\t", "   "], 0, 20)))
    rng.shuffle(headers)
    return headers


def random_query(rng):
    names = rng.sample(QUERY_NAMES, rng.randint(0, 3))
    return [(n, "" if n == "empty" else text(rng, TEXT_PIECES, 0, 16)) for n in names]


def random_case(rng):
    method = rng.choice(["GET", "GET", "PUT", "PUT", "HEAD", "DELETE", "POST"])
    scheme, host = rng.choice(HOSTS)
    return {
        "method": method, "scheme": scheme, "host": host, "path": random_path(rng),
        "region": rng.choice(REGIONS),
        "access_key": "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)),
        "secret": "".join(rng.choice(B64) for _ in range(40)),
        "token": rng.choice([None, None, "".join(rng.choice(B64 + "=") for _ in range(rng.randint(16, 300)))]),
        "time": rng.randint(946684800, 4102444799),  # 2000..2099
        "expires": rng.choice([1, 60, 900, 3600, 86400, 604800, rng.randint(1, 604800)]),
        "headers": random_headers(rng, method), "query": random_query(rng),
    }


FIXED_CASES = [
    {  # AWS's documented example
        "method": "GET", "scheme": "https", "host": "examplebucket.s3.amazonaws.com", "path": "/test.txt",
        "region": "us-east-1", "access_key": "AKIAIOSFODNN7EXAMPLE",
        "secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "token": None, "time": 1369353600,
        "expires": 86400, "headers": [], "query": [],
    },
    {  # a browser upload to a local S3-compatible store, path style, with a session token
        "method": "PUT", "scheme": "http", "host": "127.0.0.1:4568",
        "path": "/zencast-recordings/rooms/ab12/tracks/host mic (1) ü.webm", "region": "us-east-1",
        "access_key": "AKIAIOSFODNN7EXAMPLE", "secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "token": "FwoGZXIvYXdzEJr//////////wEaDM+token/with+specials==", "time": 1700000000,
        "expires": 900,
        "headers": [("content-type", "audio/webm;codecs=opus"),
                    ("x-amz-checksum-sha256", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")],
        "query": [("partNumber", "3"), ("uploadId", "VXBsb2FkIElE/+=")],
    },
]


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__)
        return 2
    cli = sys.argv[1]
    seed = int(sys.argv[2]) if len(sys.argv) == 3 else DEFAULT_SEED
    rng = random.Random(seed)
    cases = FIXED_CASES + [random_case(rng) for _ in range(CASES)]
    passed = failed = 0
    for i, case in enumerate(cases):
        b_url, auth = botocore_presign(case)
        stamp = datetime.datetime.fromtimestamp(case["time"], datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        if "X-Amz-Date=%s&" % stamp not in b_url:
            print("FAIL: could not freeze botocore's clock (botocore %s): %s" % (botocore.__version__, b_url))
            return 1
        try:
            c_url, _ = c_presign(cli, case)
            diffs = compare(c_url, b_url)
        except RuntimeError as e:
            c_url, diffs = None, [str(e)]
        if not diffs:
            passed += 1
            continue
        failed += 1
        print("case %d MISMATCH (seed %d): %r" % (i, seed, case))
        for d in diffs:
            print("  " + d)
        print("  C:        %s\n  botocore: %s" % (c_url, b_url))
        print("  botocore canonical request:\n%s\n  botocore string to sign:\n%s" % (auth.canonical, auth.to_sign))
        try:
            print("  C debug:\n" + c_presign(cli, case, debug=True)[1])
        except RuntimeError as e:
            print("  C debug unavailable: %s" % e)
    print("sigv4 vs botocore %s (seed %d): %d passed, %d failed" % (botocore.__version__, seed, passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
