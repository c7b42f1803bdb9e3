"""Issue 23 item 10: LiveAdvisor.told (job id -> the advice sent) only grew, one entry per job the
server ever advised on. It now holds the running jobs only; a job's directory still remembers that it
was told (advice.live.json), so a job that runs again is not told twice."""

import time
from types import SimpleNamespace

from tritonml_lab.advice.live import TOLD_FILE, LiveAdvisor


def test_told_holds_only_running_jobs(tmp_path):
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    (job_dir / TOLD_FILE).write_text('{"id": "7"}')
    monitor = SimpleNamespace(jobs={}, listening=True, publish=lambda *a: None)
    advisor = LiveAdvisor(monitor, lambda job_id: job_dir, lambda job_id: None)
    now = time.time()
    running = {"7": SimpleNamespace(id="7", name="x", started=now - 3600, state="RUNNING", array_job_id=None)}
    assert advisor.check(now, running) == [] and "7" in advisor.told  # told before: read from its directory
    advisor.told.update({str(n): None for n in range(100, 200)})  # jobs advised on, since ended
    assert advisor.check(now, running) == []
    assert set(advisor.told) == {"7"}
    assert advisor.check(now, {}) == [] and advisor.told == {}
    assert advisor.check(now, running) == [] and "7" in advisor.told  # runs again: still not told twice
