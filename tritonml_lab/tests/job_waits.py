"""Waiting on a job through the jobs API (GET jobs/{id}), for the tests that act at a given moment."""

import asyncio
import json
import time
from collections.abc import Callable


async def wait_detail(jp_fetch, job_id: str, until: Callable[[dict], bool], timeout: float = 60) -> dict:
    """The job's detail once ``until(detail)`` holds, or the last one seen after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        detail = json.loads((await jp_fetch("tritonml", "jobs", job_id)).body)
        if until(detail) or time.monotonic() > deadline:
            return detail
        await asyncio.sleep(0.5)


def in_state(*states: str) -> Callable[[dict], bool]:
    return lambda detail: detail["state"] in states
