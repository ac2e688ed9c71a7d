"""Generates the SigV4 corpus and signs it with botocore (the reference).

Each request is a dict in the shape tests/unit/aws/sigv4_driver.c reads.
The requests are built the way cairn's client puts them on the wire: path
and query already percent-encoded once (RFC 3986 unreserved set), Host
header present. botocore signs them with SigV4Auth (S3SigV4Auth for S3) at a
fixed timestamp; the driver must print the same Authorization header.
"""
import datetime
import random
from unittest import mock
from urllib.parse import quote

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

# service -> (host, signing name, region override)
SERVICES = {
    "ec2": ("ec2.{r}.amazonaws.com", "ec2", None),
    "ecs": ("ecs.{r}.amazonaws.com", "ecs", None),
    "ecr": ("api.ecr.{r}.amazonaws.com", "ecr", None),
    "iam": ("iam.amazonaws.com", "iam", "us-east-1"),
    "secretsmanager": ("secretsmanager.{r}.amazonaws.com", "secretsmanager", None),
    "logs": ("logs.{r}.amazonaws.com", "logs", None),
    "sts": ("sts.{r}.amazonaws.com", "sts", None),
    "s3": ("cairn-state.s3.{r}.amazonaws.com", "s3", None),
}
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1", "eu-central-1"]
TIMES = ["20150830T123600Z", "20240229T235959Z", "20261122T073846Z", "19991231T000000Z"]
SEGMENTS = ["a", "b c", "x/y", "caf\u00e9", "\u2713", "~tilde", "100%", "a+b",
            "semi;colon", "eq=al", "q?mark", "hash#", "dots..", "(paren)",
            "*star", "'quote'", "\u65e5\u672c", "emoji\U0001F600", "sp ace",
            "UPPER", "under_score", "dash-", "comma,"]
ODD_PATHS = ["/", "", "/./", "/a/./b", "/a/../b", "/../x", "//double//slash//",
             "/trailing/", "/a/b/../../c", "/%2F", "/a%20b", "/.hidden"]
KEYS = ["Action", "Version", "Filter.1.Name", "Filter.1.Value.1", "a", "b",
        "empty", "list.member.1", "Marker", "caf\u00e9", "sp ace", "x~y",
        "a+b", "UPPER", "lower", "_under", "k=v"]
VALUES = ["", "1", "value with space", "caf\u00e9", "a&b", "a=b", "/path/",
          "*", "%", "\u2713\u2713", "Zoo", "aha", "TRUE", "2016-11-15",
          "x" * 300]
HEADER_NAMES = ["Content-Type", "X-Amz-Target", "X-Custom", "x-custom",
                "X-Amz-Meta-Owner", "If-Match", "If-None-Match", "Range",
                "Accept", "User-Agent", "Expect", "X-Amzn-Trace-Id",
                "Content-MD5", "X-Amz-Client-Context", "My-Header1"]
ODD_VALUES = ["plain", "  leading", "trailing  ", "in   between", "\ttab\tsep\t",
              "a \t b \t  c", "", "   ", "\"quoted  value\"", "caf\u00e9  au  lait",
              "comma,separated,values", "x" * 200, "*", "W/\"etag\""]
TOKENS = [None, None, "FQoGZXIvYXdzEBYaDExampleSessionToken/+=",
          "IQoJb3JpZ2luX2VjEMz" + "A" * 400 + "==", "token with  spaces"]
KEYPAIRS = [("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            ("test", "test"),
            ("ASIAXXXXXXXXXXXXXXXX", "s3cr3t+/=with/odd+chars" + "k" * 30)]

ENC = "-_.~"


def enc(s, safe=ENC):
    return quote(s, safe=safe)


def gen_path(rnd, s3):
    if not s3 and rnd.random() < 0.35:
        return rnd.choice(ODD_PATHS)
    n = rnd.randint(0, 4)
    segs = [enc(rnd.choice(SEGMENTS)) for _ in range(n)]
    p = "/" + "/".join(segs)
    if rnd.random() < 0.2:
        p += "/"
    return p


def gen_query(rnd):
    if rnd.random() < 0.3:
        return ""
    pairs = []
    for _ in range(rnd.randint(1, 8)):
        k = rnd.choice(KEYS)
        r = rnd.random()
        if r < 0.1:
            pairs.append(enc(k))  # key without '='
        elif r < 0.2:
            pairs.append(enc(k) + "=")
        else:
            pairs.append(enc(k) + "=" + enc(rnd.choice(VALUES)))
    if rnd.random() < 0.3:  # repeated key
        k = enc(rnd.choice(KEYS))
        pairs.append(k + "=" + enc(rnd.choice(VALUES)))
        pairs.append(k + "=" + enc(rnd.choice(VALUES)))
    rnd.shuffle(pairs)
    return "&".join(pairs)


def gen_body(rnd, svc):
    r = rnd.random()
    if r < 0.25:
        return b""
    if r < 0.3:
        return bytes(rnd.getrandbits(8) for _ in range(rnd.choice([65536, 300000])))
    if svc in ("ec2", "iam", "sts"):
        parts = ["Action=Describe" + rnd.choice(["Vpcs", "Subnets", "Users"]),
                 "Version=2016-11-15"]
        for i in range(rnd.randint(0, 5)):
            parts.append(f"Filter.{i + 1}.Name={enc(rnd.choice(VALUES))}")
        return "&".join(parts).encode()
    return ('{"name":"%s","tags":[{"key":"k","value":"%s"}]}'
            % (rnd.choice(SEGMENTS), rnd.choice(VALUES))).encode("utf-8")


def gen_request(rnd, i):
    svc = list(SERVICES)[i % len(SERVICES)]
    host_t, signing, fixed_region = SERVICES[svc]
    region = fixed_region or rnd.choice(REGIONS)
    s3 = svc == "s3"
    method = rnd.choice(["GET", "POST", "PUT", "DELETE", "HEAD"] if s3 else
                        ["GET", "POST", "POST"])
    ak, sk = rnd.choice(KEYPAIRS)
    headers = [["Host", host_t.format(r=region)]]
    if rnd.random() < 0.3:  # a non-default port is part of Host
        headers[0][1] += ":" + str(rnd.choice([4566, 8443]))
    for _ in range(rnd.randint(0, 9)):
        headers.append([rnd.choice(HEADER_NAMES), rnd.choice(ODD_VALUES)])
    rnd.shuffle(headers)
    body = gen_body(rnd, svc) if method in ("POST", "PUT") else b""
    return {
        "method": method,
        "path": gen_path(rnd, s3),
        "query": gen_query(rnd),
        "headers": headers,
        "body_hex": body.hex(),
        "access_key": ak,
        "secret_key": sk,
        "token": rnd.choice(TOKENS) or "",
        "region": region,
        "service": signing,
        "amz_date": rnd.choice(TIMES),
        "s3": s3,
        "unsigned_payload": s3 and rnd.random() < 0.5,
    }


def corpus(n=260, seed=4):
    rnd = random.Random(seed)
    return [gen_request(rnd, i) for i in range(n)]


class _S3Config:
    def __init__(self, sign):
        self.s3 = {"payload_signing_enabled": sign}


def botocore_sign(d):
    """The Authorization header botocore computes for request d."""
    host = next(v for n, v in d["headers"] if n.lower() == "host")
    url = "https://" + host + (d["path"] or "/")
    if d["query"]:
        url += "?" + d["query"]
    req = AWSRequest(method=d["method"], url=url,
                     data=bytes.fromhex(d["body_hex"]))
    for n, v in d["headers"]:
        req.headers[n] = v  # HTTPHeaders appends: repeated names stay
    creds = Credentials(d["access_key"], d["secret_key"], d["token"] or None)
    if d["s3"]:
        signer = S3SigV4Auth(creds, d["service"], d["region"])
        req.context["client_config"] = _S3Config(not d["unsigned_payload"])
    else:
        signer = SigV4Auth(creds, d["service"], d["region"])
    when = datetime.datetime.strptime(d["amz_date"], "%Y%m%dT%H%M%SZ")

    class Fixed(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return when

    with mock.patch("botocore.auth.datetime.datetime", Fixed):
        signer.add_auth(req)
    return req.headers["Authorization"]
