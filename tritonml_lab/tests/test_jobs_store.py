"""Job directories: the sampler each one holds (a hard link to one shared copy per version), and
what keeps a jobs root safe (ownership, permissions, files trusted by content)."""

import getpass
import os
import stat
from pathlib import Path

import pytest

from tritonml_lab.jobs.paths import kernel_jobs_root
from tritonml_lab.jobs.script import Defaults
from tritonml_lab.jobs.spec import JobSpec
from tritonml_lab.jobs.store import JobStore
from tritonml_lab.injob import SAMPLER as SAMPLER_PATH


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


def test_a_root_others_can_write_to_or_own_is_refused(tmp_path):
    root = tmp_path / "shared"
    root.mkdir()
    os.chmod(root, 0o777)
    with pytest.raises(ValueError, match="others may write to it"):
        JobStore(root)
    os.chmod(root, 0o755)
    os.chown(root, 65534, -1)  # nobody's (the tests run as root, as CI does)
    with pytest.raises(ValueError, match="belongs to another user"):
        JobStore(root)


def test_jobs_root_may_name_the_user(monkeypatch):
    monkeypatch.setenv("TRITONML_JOBS_ROOT", "/scratch/work/{user}/tritonml")
    assert kernel_jobs_root() == f"/scratch/work/{getpass.getuser()}/tritonml"


def test_job_directories_are_private_and_only_the_users_own_are_found(tmp_path):
    store = JobStore(tmp_path / "jobs")
    job_dir, manifest = store.create(JobSpec(command="true"), Defaults(sampler_python=None))
    assert stat.S_IMODE(job_dir.path.stat().st_mode) == 0o700
    store.attach(job_dir, manifest, "4242")
    assert store.find("4242") == job_dir
    os.chown(job_dir.path, 65534, -1)  # a directory someone else put there, e.g. to be unpickled by fetch
    assert store.find("4242") is None


def test_a_planted_sampler_is_replaced_not_trusted_by_its_name(tmp_path):
    store = JobStore(tmp_path / "jobs")
    store.create(JobSpec(command="true"), Defaults())
    shared = next((tmp_path / "jobs" / ".tritonml").glob("sampler-*.py"))
    os.chmod(shared, 0o644)
    shared.write_text("import os; os.system('evil')\n")
    job_dir, _ = JobStore(tmp_path / "jobs").create(JobSpec(command="true"), Defaults())
    assert (job_dir.path / "sampler.py").read_bytes() == Path(SAMPLER_PATH).read_bytes()


def test_a_root_another_user_creates_after_start_up_is_refused_when_used(tmp_path):
    """Issue 23 item 11: the root did not exist at start-up (so nothing was checked then); another
    user creates it on shared scratch before our first submission. Nothing of ours is written there."""
    from tritonml_lab.jobs import Defaults, JobSpec
    from tritonml_lab.jobs.store import UnsafeJobsRoot

    root = tmp_path / "scratch" / "tritonml"
    store = JobStore(root)  # the server starts: no root yet
    root.mkdir(parents=True)
    os.chown(root, 65534, 65534)  # nobody's (the tests run as root, as CI does)
    with pytest.raises(UnsafeJobsRoot, match="belongs to another user"):
        store.prepare(JobSpec(command="true"), Defaults(sampler_python=None))
    assert list(root.iterdir()) == []
    os.chown(root, os.getuid(), os.getgid())
    os.chmod(root, 0o777)  # ours, but others may write to it
    with pytest.raises(UnsafeJobsRoot, match="others may write to it"):
        store.prepare(JobSpec(command="true"), Defaults(sampler_python=None))
    os.chmod(root, 0o755)
    job_dir, _manifest = store.prepare(JobSpec(command="true"), Defaults(sampler_python=None))
    assert job_dir.path.parent == root
