"""What the magics show: text (a job's status, the jobs table), HTML (a sweep's results table) and
the job and sweep widgets (:mod:`tritonml_lab.widgets`), created here and only when ipywidgets is
installed in this kernel's environment: without it the text and HTML stand in.
"""

from __future__ import annotations

import html
import time
from datetime import datetime
from typing import Any, Callable, Optional

from ..jobs.markers import run_history
from ..jobs.store import JobDir, Manifest
from ..slurm import Job, JobState
from .jobdir import runner_outputs


# -- text ------------------------------------------------------------------------------------------
def when(epoch: Optional[float]) -> str:
    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S") if epoch else "-"


def duration(seconds: Optional[float]) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}"


def elapsed(job: Optional[Job]) -> Optional[float]:
    if job is None:
        return None
    if job.state is JobState.RUNNING and job.started:
        return time.time() - job.started
    if job.elapsed is None and job.started and job.ended:
        return job.ended - job.started
    return job.elapsed


def job_row(job_id: str, job: Optional[Job], job_dir: Optional[JobDir]) -> tuple:
    state = job.state.value if job else "UNKNOWN"
    if job is not None and job.state is JobState.PENDING and job.reason:
        state += f" ({job.reason})"
    return (job_id, job.name if job else "", state, duration(elapsed(job)),
            when(job.submitted if job else None), (job.nodes or "-") if job else "-",
            str(job_dir.path) if job_dir else "")


def describe(job_id: str, job: Optional[Job], manifest: Optional[Manifest], job_dir: Optional[JobDir],
             task: Optional[str]) -> str:
    """``%tritonml status``: state, resources, times, exit code, directory and --out of one job."""
    name = job.name if job else (manifest.spec.name or "tritonml") if manifest else ""
    state = job.state.value if job else "UNKNOWN (Slurm has no record yet)"
    lines = [f"Job {job_id} ({name}): {state}"]
    if job is not None:
        if job.state is JobState.PENDING:
            lines.append(f"  waiting for: {job.reason or '-'}; expected start {when(job.expected_start)}")
        details = [
            ("partition", job.partition), ("nodes", job.nodes), ("GPUs", job.gpus), ("CPUs", job.cpus),
            ("submitted", when(job.submitted)), ("started", when(job.started) if job.started else None),
            ("ended", when(job.ended) if job.ended else None), ("elapsed", duration(elapsed(job))),
            ("time limit", duration(job.time_limit * 60) if job.time_limit else None),
            ("exit code", job.exit_code),
        ]
        lines += [f"  {label}: {value}" for label, value in details if value not in (None, "")]
        left = time_left(job)
        if left is not None:
            near = job.time_limit and left <= 0.1 * job.time_limit * 60
            lines.append(f"  time left: {duration(left)}" + (" (last 10 % of the limit)" if near else ""))
    if manifest is not None and manifest.spec.checkpoint is not None:
        lines += long_job(manifest.spec.checkpoint, job_dir, task)
    if job_dir is not None:
        code = job_dir.exit_code(task)
        if code is not None and (job is None or job.exit_code is None):
            lines.append(f"  exit code: {code}")
        lines.append(f"  directory: {job_dir.path}")
        outputs = runner_outputs(job_dir)
        if outputs:
            ready = any(job_dir.path.glob("outputs*.pkl"))
            lines.append(f"  --out: {', '.join(outputs)}" + (
                f" (ready: %tritonml fetch {job_id})" if ready else " (not sent back yet)"))
        lines.append(f"  logs: %tritonml logs {job_id}")
    return "\n".join(lines)


def time_left(job: Job) -> Optional[float]:
    """Seconds until a running job's time limit; None when not running or unlimited."""
    if job.state is not JobState.RUNNING or not job.started or not job.time_limit:
        return None
    return max(0.0, job.started + job.time_limit * 60 - time.time())


def long_job(checkpoint, job_dir: Optional[JobDir], task: Optional[str]) -> list[str]:
    """The checkpoint options and the restart history: each run's start, end, node and outcome."""
    lines = [f"  long job: warned {checkpoint.warn_seconds} s before the limit, "
             f"requeues itself up to {checkpoint.requeue} time{'' if checkpoint.requeue == 1 else 's'}"]
    runs = run_history(str(job_dir.path), task) if job_dir is not None else []
    for run in runs:
        label = "first run" if run.run == 0 else f"restart {run.run}"
        outcome = {"requeued": "stopped for the time limit, requeued"}.get(run.outcome or "", run.outcome or "running")
        lines.append(f"    {label}: {when(run.started)} → {when(run.ended) if run.ended else '…'} on "
                     f"{run.nodes or '-'}: {outcome}")
    return lines


def jobs_table(rows: list[tuple]) -> str:
    """``%tritonml jobs``: one line a job, in columns; the directory last, unpadded."""
    header = ("ID", "NAME", "STATE", "ELAPSED", "SUBMITTED", "NODES", "DIRECTORY")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header) - 1)]
    return "\n".join("  ".join(str(v).ljust(w) for v, w in zip(row, widths)) + "  " + str(row[-1])
                     for row in [header, *rows])


# -- sweeps: rows, HTML, snapshot --------------------------------------------------------------------
def sweep_rows(view) -> list[dict[str, Any]]:
    """The results table as flat rows: index, state, each param, each reported value, best, error."""
    keys: list[str] = [view.metric] if view.metric else []
    for task in view.tasks:
        keys += [key for key in task.result or {} if key not in keys]
    rows = []
    for task in view.tasks:
        params = task.params or {}  # None: an Optuna task that has not asked for its point yet
        row: dict[str, Any] = {"index": task.index, "state": task.state.value}
        row.update(params)
        result = task.result or {}
        for key in keys:  # the same columns in every row, None where a task reported nothing
            row[f"result_{key}" if key in params or key in ("index", "state") else key] = result.get(key)
        row.update(best=task.best, pruned_at=task.pruned.step if task.pruned else None, error=task.error,
                   job_id=task.job_id)
        rows.append(row)
    return rows


def sweep_snapshot(view, limit: int = 200) -> dict[str, Any]:
    """The sweep as JSON for the widget's model (the first ``limit`` rows of the table)."""
    data = view.model_dump(mode="json")
    if len(data["tasks"]) > limit:
        data["tasks"], data["truncated"] = data["tasks"][:limit], True
    return data


def sweep_html(view, limit: int = 50) -> str:
    """The results table as HTML: the first ``limit`` tasks, the best one marked."""
    params = list(dict.fromkeys(name for task in view.tasks for name in task.params or {}))
    metrics: list[str] = [view.metric] if view.metric else []
    for task in view.tasks:
        for key in task.result or {}:
            if key not in metrics and len(metrics) < 8:
                metrics.append(key)
    counts = ", ".join(f"{n} {state.lower()}" for state, n in sorted(view.counts.items()))
    head = (f"<b>Sweep {html.escape(view.id)}</b> ({html.escape(view.name)}, {view.total} tasks"
            f"{', by ' + html.escape(view.metric) + ' ' + view.mode if view.metric else ''}): {html.escape(counts)}"
        f"{f' ({view.pruned} pruned)' if view.pruned else ''}")
    cols = ["#", "state", *params, *metrics, "error"]
    out = [f"<div class='tritonml-sweep'><p>{head}</p><table><thead><tr>"
           + "".join(f"<th>{html.escape(c)}</th>" for c in cols) + "</tr></thead><tbody>"]

    def cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, float):
            return f"{value:.6g}"
        return html.escape(str(value))

    for task in view.tasks[:limit]:
        style = " style='font-weight:bold;background:rgba(80,200,120,0.25)'" if task.best else ""
        error = (task.error or "").strip().splitlines()
        state = task.state.value + (f" (pruned at step {task.pruned.step})" if task.pruned else "")
        values = [task.index, state + (" ★ best" if task.best else ""),
                  *[(task.params or {}).get(p) for p in params], *[(task.result or {}).get(m) for m in metrics],
                  error[-1][:120] if error else None]
        out.append(f"<tr{style}>" + "".join(f"<td>{cell(v)}</td>" for v in values) + "</tr>")
    out.append("</tbody></table>")
    if len(view.tasks) > limit:
        out.append(f"<p>… and {len(view.tasks) - limit} more: %tritonml sweep-results {html.escape(view.id)}</p>")
    out.append("</div>")
    return "".join(out)


# -- showing them ----------------------------------------------------------------------------------
def html_object(markup: str):
    from IPython.display import HTML

    return HTML(markup)


def show_html(markup: str):
    """Display the table; returns a handle to update it (None outside IPython's display)."""
    try:
        from IPython.display import display

        return display(html_object(markup), display_id=True)
    except Exception:  # noqa: BLE001 - no display (plain scripts)
        return None


def show_widget(widget):
    """Display the sweep widget; returns a handle to update it (None outside IPython's display)."""
    try:
        from IPython.display import display

        return display(widget, display_id=True)
    except Exception:  # noqa: BLE001 - no display (plain scripts)
        return None


def show_job_widget(widget) -> None:
    if widget is not None:
        from IPython.display import display

        display(widget)


# -- the widgets -----------------------------------------------------------------------------------
def job_widget(job_id: str, name: str, directory: str, outputs: list[str],
               fetcher: Callable[[str], list], canceller: Callable[[str], None]):
    """The live job widget, its Fetch and Cancel wired to the kernel; None without ipywidgets."""
    try:
        from ..widgets import JobWidget
    except ImportError:  # ipywidgets is not in this kernel's environment
        return None
    return JobWidget(job_id=job_id, job_name=name, directory=directory, out_vars=outputs,
                     state="PENDING", fetcher=fetcher, canceller=canceller)


def sweep_widget(view):
    """The live sweep widget (the HTML table is its fallback repr); None without ipywidgets."""
    try:
        from ..widgets import SweepWidget
    except ImportError:  # ipywidgets is not in this kernel's environment
        return None
    return SweepWidget(sweep_id=view.id, sweep_name=view.name, metric=view.metric or "", mode=view.mode,
                       total=view.total, snapshot=sweep_snapshot(view), html=sweep_html(view))
