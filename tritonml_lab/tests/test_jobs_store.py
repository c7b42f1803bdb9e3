"""Job directories: the sampler each one holds (a hard link to one shared copy per version)."""

import os
from pathlib import Path

from tritonml_lab.jobs.script import Defaults
from tritonml_lab.jobs.spec import JobSpec
from tritonml_lab.jobs.store import JobStore
from tritonml_lab.metrics import SAMPLER_PATH


def test_each_job_links_the_one_shared_sampler(tmp_path):
    store = JobStore(tmp_path / "jobs")
    spec = JobSpec(command="true")
    first, _ = store.create(spec, Defaults())
    second, _ = store.create(spec, Defaults())
    shared = list((tmp_path / "jobs" / ".tritonml").glob("sampler-*.py"))
    assert len(shared) == 1
    for job_dir in (first, second):
        sampler = job_dir.path / "sampler.py"
        assert sampler.read_bytes() == Path(SAMPLER_PATH).read_bytes()
        assert os.stat(sampler).st_ino == os.stat(shared[0]).st_ino
        assert not os.access(sampler, os.W_OK) or os.geteuid() == 0  # read-only (root may write anyway)
        assert str(sampler) in job_dir.script_path.read_text()
    # Jobs without sampling get none.
    quiet, _ = store.create(spec, Defaults(sampler_python=None))
    assert not (quiet.path / "sampler.py").exists()


def test_without_hard_links_the_sampler_is_copied(tmp_path, monkeypatch):
    def no_links(*_args, **_kwargs):
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    job_dir, _ = JobStore(tmp_path / "jobs").create(JobSpec(command="true"), Defaults())
    assert (job_dir.path / "sampler.py").read_bytes() == Path(SAMPLER_PATH).read_bytes()
