"""Jobs from ``squeue --json`` / ``scontrol show job --json`` (job_info) and ``sacct --json``.

Tested on recorded output of 22.05 (data_parser v0.0.38), 23.02 (v0.0.39), 23.11 (v0.0.40) and
24.11 (v0.0.42) in tests/data/. Fields are read by name and their values through :mod:`values`, so
a release that wraps or lists a value differently still parses; a field that cannot be read is None.
"""

from __future__ import annotations

from typing import Any, Optional

from . import exitcode, values
from .errors import SlurmOutputError
from .exitcode import ExitStatus
from .gres import GpuCounts, add_gpus, format_gpus, gpus_of, tres_gpus
from .models import Job, JobState
from .values import epoch, first, guarded, items, number, obj, text, warn_once
from .version import KNOWN_LAYOUTS


def _array_ids(job_id: Any, array_job_id: Any, array_task_id: Any) -> tuple[str, Optional[str], Optional[str]]:
    parent, task = number(array_job_id), number(array_task_id)
    if parent and task is not None:
        return f"{parent}_{task}", str(parent), str(task)
    return str(number(job_id)), None, None


def _reason(value: Any) -> Optional[str]:
    reason = text(value)
    return None if reason in (None, "None") else reason


def _gpu_fields(counts: Optional[GpuCounts]) -> dict[str, Any]:
    counts = counts or {}
    return {"gpus": format_gpus(counts), "gpu_count": sum(counts.values()) or None}


# States in which Slurm ended the job itself, by a signal to its batch script.
_ENDED_BY_SLURM = frozenset({JobState.CANCELLED, JobState.TIMEOUT, JobState.PREEMPTED, JobState.DEADLINE})


def _exit_fields(state: JobState, status: Optional[ExitStatus], what: str) -> dict[str, Any]:
    if not state.is_finished:
        return {"exit_code": None, "signal": None, "signal_name": None}
    if status is None:
        warn_once(f"{what}-exit", "%s gave a finished job no readable exit code; showing none", what)
        status = ExitStatus()
    if state in _ENDED_BY_SLURM and status.signal is None and status.code and 128 < status.code < 128 + 32:
        # A script that traps SIGTERM (tritonml-lab's do) exits 128+N: the shell's way to say signal N.
        sig = status.code - 128
        status = ExitStatus(status.code, sig, exitcode.signal_name(sig, None))
    return {"exit_code": status.code, "signal": status.signal, "signal_name": status.signal_name}


def _job_records(output: str | dict[str, Any], what: str) -> list[dict[str, Any]]:
    doc = values.load(output, what) if isinstance(output, str) else output
    values.note_layout(doc, what, KNOWN_LAYOUTS)
    if not isinstance(doc.get("jobs"), list):  # a renamed list must not read as "no jobs"
        raise SlurmOutputError(f"{what} printed no 'jobs' list (keys: {', '.join(sorted(doc)) or 'none'})")
    return [raw for raw in doc["jobs"] if isinstance(raw, dict)]


# -- squeue / scontrol show job ----------------------------------------------------------------------
def squeue_json(output: str, uid: Optional[int] = None) -> list[Job]:
    """Jobs of ``squeue --json`` (or ``scontrol show job --json``, the same job_info layout).

    ``uid``: keep only this user's jobs. 22.05's ``squeue --json`` ignores every filter option
    (``--me`` included: its man page says so) and prints the whole queue."""
    jobs = []
    for raw in _job_records(output, "squeue --json"):
        if uid is not None and number(raw.get("user_id")) not in (None, uid):
            continue
        jobs.append(guarded("squeue --json", lambda: _queued_job(raw)))
    return jobs


def _queued_job(raw: dict[str, Any]) -> Job:
    job_id, parent, task = _array_ids(raw.get("job_id"), raw.get("array_job_id"), raw.get("array_task_id"))
    if parent is None and text(raw.get("array_task_string")):
        parent, task = job_id, text(raw.get("array_task_string"))  # a pending array, not yet split: "0-9%2"
    state = JobState.parse(raw.get("job_state"))
    pending = state is JobState.PENDING
    start, end = epoch(raw.get("start_time")), epoch(raw.get("end_time"))
    return Job(
        id=job_id,
        name=text(raw.get("name")) or "",
        state=state,
        reason=_reason(raw.get("state_reason")),
        partition=text(raw.get("partition")),
        nodes=text(raw.get("nodes")),
        node_count=number(raw.get("node_count")),
        cpus=number(raw.get("cpus")),
        user=text(first(raw, "user_name", "user")),
        account=text(raw.get("account")),
        submitted=epoch(raw.get("submit_time")),
        # squeue reports a *planned* start/end for pending jobs; only a started job has a start.
        started=None if pending else start,
        ended=end if state.is_finished else None,
        expected_start=start if pending else None,
        time_limit=number(raw.get("time_limit")),
        array_job_id=parent,
        array_task_id=task,
        workdir=text(first(raw, "current_working_directory", "working_directory")),
        stdout_path=text(raw.get("standard_output")),
        stderr_path=text(raw.get("standard_error")),
        **_gpu_fields(_queued_gpus(raw, started=not pending)),
        **_exit_fields(state, exitcode.read(raw.get("exit_code")), "squeue"),
    )


def _queued_gpus(raw: dict[str, Any], started: bool) -> Optional[GpuCounts]:
    """GPUs of a job: those its nodes hold once it started (gres_detail, one GRES string per node),
    else what it asked for (per job, per node x nodes, per task x tasks), else slurmctld's total
    (tres_alloc_str, tres_req_str: the only total of a per-socket request, as the sockets a job
    gets are known once it runs), typed by the request where the total is not."""
    if started:
        detail = raw.get("gres_detail") or []
        held: GpuCounts = {}
        for node in [detail] if isinstance(detail, str) else items(detail):
            add_gpus(held, gpus_of(str(node)))
        held = {kind: count for kind, count in held.items() if count}
        if held:
            return held
    asked, per_unit = _asked_gpus(raw)
    total = (tres_gpus(raw.get("tres_alloc_str")) if started else {}) or tres_gpus(raw.get("tres_req_str"))
    untyped = set(total) == {None}
    if asked:  # slurmctld's typed total, where the site accounts types, says more than an untyped ask
        same = sum(total.values()) == sum(asked.values())
        return total if set(asked) == {None} and total and not untyped and same else asked
    if total:
        return {next(iter(per_unit)): total[None]} if untyped and len(per_unit) == 1 else total
    if per_unit:
        warn_once("squeue-gpus", "a job asks for GPUs per socket (%s) and Slurm gives no total yet", per_unit)
    return None


def _asked_gpus(raw: dict[str, Any]) -> tuple[GpuCounts, GpuCounts]:
    """(the job's total as asked, {}), or ({}, the ask per unit) where the number of units is unknown."""
    units = (("tres_per_job", 1), ("tres_per_node", number(raw.get("node_count"))),
             ("tres_per_task", number(first(raw, "tasks", "num_tasks"))), ("tres_per_socket", None))
    for key, times in units:
        counts = tres_gpus(raw.get(key))
        if counts:
            return (add_gpus({}, counts, times), {}) if times else ({}, counts)
    return {}, {}


# -- sacct -------------------------------------------------------------------------------------------
def sacct_json(output: str) -> list[Job]:
    """Jobs from ``sacct --json``; of several records with one id (a requeued job, or ids reused
    after a controller reset) the most recently submitted wins."""
    doc = values.load(output, "sacct --json")
    # 22.05's sacct --json (dbv0.0.38) prints every normal exit as {"status": "SUCCESS",
    # "return_code": 0}, whatever the code was (it tests WIFEXITED and stops): there, a 0 is only
    # believable for a COMPLETED job.
    blind_exit = values.data_parser(doc) == "v0.0.38"
    jobs: dict[str, Job] = {}
    for raw in _job_records(doc, "sacct --json"):
        job = guarded("sacct --json", lambda: _accounted_job(raw, blind_exit))
        previous = jobs.get(job.id)
        if previous is None or (job.submitted or 0) >= (previous.submitted or 0):
            jobs[job.id] = job
    return list(jobs.values())


def _accounted_job(raw: dict[str, Any], blind_exit: bool) -> Job:
    array = obj(raw.get("array"))
    job_id, parent, task = _array_ids(raw.get("job_id"), array.get("job_id"), array.get("task_id"))
    times = obj(raw.get("time"))
    state_info = raw.get("state")
    # {"current": ..., "reason": ...}; a state written as its bare name (or flags) is still read.
    state = JobState.parse(state_info.get("current") if isinstance(state_info, dict) else state_info)
    state_info = obj(state_info)
    tres = obj(raw.get("tres"))
    allocated, requested = items(tres.get("allocated")), items(tres.get("requested"))
    nodes = text(raw.get("nodes"))
    return Job(
        id=job_id,
        name=text(raw.get("name")) or "",
        state=state,
        reason=_reason(state_info.get("reason")),
        partition=text(raw.get("partition")),
        nodes=None if nodes == "None assigned" else nodes,
        node_count=_tres_count(allocated, "node") or _tres_count(requested, "node"),
        cpus=_tres_count(allocated, "cpu") or _tres_count(requested, "cpu"),
        user=text(raw.get("user")),
        account=text(raw.get("account")),
        submitted=epoch(times.get("submission")),
        started=epoch(times.get("start")),
        ended=epoch(times.get("end")),
        elapsed=number(times.get("elapsed")),
        time_limit=number(times.get("limit")),
        array_job_id=parent,
        array_task_id=task,
        workdir=text(raw.get("working_directory")),
        **_gpu_fields(tres_gpus(allocated) or tres_gpus(requested)),
        **_exit_fields(state, _accounted_exit(raw, state, blind_exit), "sacct"),
    )


def _accounted_exit(raw: dict[str, Any], state: JobState, blind_exit: bool) -> Optional[ExitStatus]:
    """The job's exit status, from its own record or, for a job Slurm ended, its batch step's."""
    status = exitcode.read(raw.get("exit_code"))
    if status is not None and blind_exit and status.signal is None and state is not JobState.COMPLETED:
        warn_once("sacct-22.05-exit", "Slurm 22.05's sacct --json does not report exit codes; "
                  "the exit code of a job that did not complete is left empty")
        status = ExitStatus()
    if status is None or status.signal is not None or status.code or state is JobState.COMPLETED:
        return status
    # Slurm writes 0 on the job line of a job it ended itself (a cancel, a time-out): its batch step
    # has what the script got, the signal, or the shell's 128+N where the script traps it.
    batch = _batch_step_exit(items(raw.get("steps")))
    if batch is not None and (batch.signal is not None or (state in _ENDED_BY_SLURM and batch.code)):
        return batch
    return ExitStatus() if state in _ENDED_BY_SLURM else status


def _batch_step_exit(steps: list[dict[str, Any]]) -> Optional[ExitStatus]:
    for step in steps:
        if not isinstance(step, dict):
            continue
        # The step id: "batch" (22.05), {"step_id": "batch"} (23.02), "609.batch" (23.11+).
        ids = obj(step.get("step"))
        step_id = ids.get("id")
        if isinstance(step_id, dict):
            step_id = step_id.get("step_id")
        if str(step_id if step_id is not None else ids.get("name")).rpartition(".")[2] == "batch":
            return exitcode.read(step.get("exit_code"))
    return None


def _tres_count(items: list[dict[str, Any]], kind: str) -> Optional[int]:
    for item in items:
        if isinstance(item, dict) and item.get("type") == kind:
            return number(item.get("count"))
    return None
