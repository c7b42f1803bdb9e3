"""Issue 24 item 3: the job service is not a hub that callers reach through. ``server/services.py``
makes each of a server's parts once, hands the job service the ones it uses, and closes each itself;
handlers ask ``services.monitor``, ``.metrics``, ``.reports`` and ``.files``, never
``services.jobs.<part>``."""

import asyncio
import re
from pathlib import Path

from tritonml_lab.server.config import TritonML
from tritonml_lab.server.services import build_services

HANDLERS = Path(__file__).resolve().parents[1] / "server" / "handlers"
PARTS = ("monitor", "metrics", "advisor", "reports", "launcher", "files", "dirs", "store", "defaults", "thresholds")


def test_no_handler_reaches_through_the_job_service():
    reaching = re.compile(r"services\.jobs\.(%s)\b" % "|".join(PARTS))
    found = [f"{path.name}:{n}: {line.strip()}" for path in sorted(HANDLERS.glob("*.py"))
             for n, line in enumerate(path.read_text().splitlines(), 1) if reaching.search(line)]
    assert found == []


def test_the_job_service_uses_the_parts_services_made_and_services_closes_each(tmp_path):
    services = build_services(TritonML(jobs_root=str(tmp_path / "jobs")))
    jobs = services.jobs
    assert jobs.monitor is services.monitor and jobs.files is services.files and jobs.launcher is services.launcher
    assert jobs.store is services.store and jobs.defaults is services.defaults and jobs.thresholds is services.thresholds
    assert services.metrics.io is services.files.dirs  # one pool for the job directories

    async def start_and_close():
        services.monitor.start()
        services.advisor.start()
        await asyncio.sleep(0)
        services.close()

    asyncio.run(start_and_close())
    assert services.monitor._tasks == [] and services.advisor._task is None
    assert services.launcher.executor._shutdown
