"""The request target the transport sends is the one httpx would have sent for the same call.

Plain paths skip httpx's URL parsing; everything else goes through it. Either way the bytes
on the wire (and the signed path) must be httpx's.
"""

from __future__ import annotations

import httpx
from hypothesis import example, given
from hypothesis import strategies as st

from kalshi_core.client.transport import Call, Transport

BASES = ("http://127.0.0.1:8123/trade-api/v2", "http://localhost/trade-api/v2/", "http://[::1]:9")
segment = st.text(st.sampled_from("aZ09-._~%/é ?#+:"), max_size=12)
params = st.lists(st.tuples(st.sampled_from(["limit", "cursor", "tickers"]), segment), max_size=3)


@given(base=st.sampled_from(BASES), path=segment.map(lambda text: "/" + text), query=params)
@example(base=BASES[0], path="/markets/KXBTC-26DEC-T3", query=[])
@example(base=BASES[0], path="/markets/../portfolio", query=[])
@example(base=BASES[0], path="/markets/.", query=[])
def test_the_target_is_what_httpx_sends(base: str, path: str, query: list[tuple[str, str]]) -> None:
    transport = Transport(base)
    call = Call(method="GET", path=path, endpoint="GET /x", params=tuple(query))
    expected = httpx.URL(str(transport.base_url).rstrip("/") + path, params=query or None)
    assert transport._target(call) == expected.raw_path
