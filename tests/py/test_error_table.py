"""The client classifies every AWS error code the providers meet as AWS means it.

Expectations come from tests/py/data/aws-error-classes.txt (facts about AWS,
written down in docs/aws-behaviour.md), not from cairn's own table: each code
goes through the real classifier (the aws_ser_driver built beside cairn) and
must land in the class the data file names, or at least in a specific class
("known"), never the catch-all "aws".
"""
import json
import os
import subprocess

import pytest

from test_serialize_botocore import driver

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(HERE, "data", "aws-error-classes.txt")
DOC = os.path.join(TOP, "docs", "aws-behaviour.md")
CLASSES = {"not_found", "already_exists", "conflict", "throttled", "known"}


def expectations():
    rows = {}
    with open(DATA) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            code, cls = line.split()[:2]
            assert cls in CLASSES, f"{DATA}:{n}: unknown class {cls!r}"
            assert code not in rows, f"{DATA}:{n}: {code} listed twice"
            rows[code] = cls
    return rows


def classify(codes):
    inp = "".join(json.dumps({"error_code": c, "status": 400}) + "\n" for c in codes)
    out = subprocess.run([driver()], input=inp.encode(), capture_output=True,
                         timeout=60).stdout.decode().split()
    assert len(out) == len(codes), "the driver answered fewer lines than asked"
    return dict(zip(codes, out))


@pytest.fixture(scope="module")
def want():
    rows = expectations()
    assert len(rows) >= 30
    return rows


def test_classes_match_aws_meaning(want):
    fixed = {c: k for c, k in want.items() if k != "known"}
    got = classify(list(fixed))
    bad = {c: (fixed[c], got.get(c)) for c in fixed if got.get(c) != fixed[c]}
    assert not bad


def test_every_listed_code_is_specific(want):
    got = classify(list(want))
    unknown = [c for c in want if got.get(c) in (None, "aws")]
    assert not unknown


def test_codes_are_documented(want):
    # the data file and the behaviour notes must not drift apart
    doc = open(DOC).read()
    missing = [c for c in want if f"`{c}`" not in doc]
    assert not missing


def test_quota_is_not_throttling():
    """A quota reached is its own class: retrying with backoff cannot help,
    and the message must not say "throttled"."""
    got = classify(["LimitExceededException", "LimitExceeded", "VpcLimitExceeded",
                    "AddressLimitExceeded", "RulesPerSecurityGroupLimitExceeded",
                    "ServiceQuotaExceededException", "RequestLimitExceeded",
                    "ThrottlingException"])
    assert got == {"LimitExceededException": "quota", "LimitExceeded": "quota",
                   "VpcLimitExceeded": "quota", "AddressLimitExceeded": "quota",
                   "RulesPerSecurityGroupLimitExceeded": "quota",
                   "ServiceQuotaExceededException": "quota",
                   "RequestLimitExceeded": "throttled", "ThrottlingException": "throttled"}
