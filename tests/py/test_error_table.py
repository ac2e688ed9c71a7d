"""The error table covers every AWS error code the provider notes name.

Expected classes are read from ../shared/AWS-NOTES.md (copied facts, not
cairn's table): section 7's rows say which codes mean "not visible yet"
(not_found), "already exists", "throttling" and "lingering dependencies"
(conflict); section 5 lists the EC2 and JSON codes, each of which must map to
a known class (never the catch-all "aws").
"""
import json
import os
import re
import subprocess

import pytest

from test_serialize_botocore import driver

# ../shared beside the checkout, as CI and the dev machines lay it out
_TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOTES = os.environ.get("CAIRN_AWS_NOTES",
                       os.path.join(os.path.dirname(_TOP), "shared", "AWS-NOTES.md"))


def section(text, title):
    start = text.index(title)
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else len(text)]


def codes(s):
    return [c for c in re.findall(r"`([A-Z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)*)`", s)
            if not c.startswith(("Describe", "Delete", "Create", "Release", "Detach"))]


def classify(pairs):
    inp = "".join(json.dumps({"error_code": c, "status": 400}) + "\n" for c in pairs)
    out = subprocess.run([driver()], input=inp.encode(), capture_output=True,
                         timeout=60).stdout.decode().split()
    return dict(zip(pairs, out))


@pytest.fixture(scope="module")
def notes():
    if not os.path.exists(NOTES):
        pytest.skip("AWS-NOTES.md not available")
    return open(NOTES).read()


def test_section7_classes(notes):
    s7 = section(notes, "## 7.")
    want = {}
    for line in s7.splitlines():
        if line.startswith("| just-created"):
            want.update({c: "not_found" for c in codes(line.split("|")[2])})
        elif line.startswith("| idempotent"):
            want.update({c: "already_exists" for c in codes(line.split("|")[2])})
        elif line.startswith("| throttling"):
            want.update({c: "throttled" for c in codes(line.split("|")[2])})
        elif line.startswith("| lingering"):
            want.update({c: "conflict" for c in codes(line.split("|")[2])})
    assert len(want) >= 15
    got = classify(list(want))
    bad = {c: (want[c], got.get(c)) for c in want if got.get(c) != want[c]}
    assert not bad


def test_section5_codes_are_known(notes):
    s5 = section(notes, "## 5.")
    found = []
    for line in s5.splitlines():
        if "Errors" in line or "Modelled codes" in line or "not** modelled" in line:
            found += codes(line)
    found = sorted(set(found) - {"Response", "Errors", "Error", "Code", "Message",
                                 "RequestID", "ErrorResponse", "Type", "Sender",
                                 "RequestId"})
    assert len(found) >= 25
    got = classify(found)
    unknown = [c for c in found if got.get(c) in (None, "aws")]
    assert not unknown


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
