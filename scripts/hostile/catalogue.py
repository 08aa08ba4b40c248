"""The hostile-input catalogue (issue 15): each case is a request S3 must
refuse or survive, with the answer S3 gives.

A case is a `Case(name, category, build, status, code)`:
- `build(ctx)` returns the raw request bytes, or a `Req` for cases that
  half-close, pace or stall their sending;
- `status` is the HTTP status expected, or `None` for "no answer at all"
  (the connection is closed or stays silent);
- `code` is the S3 error `<Code>` expected, or `None` for an answer with
  no S3 error body (a success, a HEAD, hyper's own 4xx, the dashboard's 401);
  `codes` lists alternatives, only where AWS documents more than one;
- `xfail` names a gateway bug: the case is expected to fail until fixed
  (the runner reports it when it starts passing);
- `note` says where s3gw's documented answer differs from AWS.

`ctx` (hostile-test.py's Ctx) has the bucket, an object, an open multipart
upload, and the builders of builders.py, which sign with sigv4.py.
"""

import cases_auth  # noqa: F401  (registers its cases)
import cases_ops  # noqa: F401
import cases_sigv2  # noqa: F401
from builders import CASES  # noqa: F401
