"""tritonml_optuna: the in-job side of an Optuna sweep task (ask a trial, tell its result).

Copied into an optuna sweep's array job directories as ``tritonml_optuna.py`` and loaded by the shim
(``tritonml.py``) only for such sweeps. It runs with the job's own Python, which needs optuna but not
tritonml-lab: nothing here imports the package, and optuna is imported inside the functions.

The study lives in an Optuna journal file on the shared filesystem (``JournalStorage`` over a
``JournalFileBackend``, which locks with a symlink: safe from many nodes at once), so every task of
every array job of the sweep, retries included, asks and tells the same study. Pruning needs the
other trials' intermediate values: ``trial.report`` writes them to the same journal.

Pruning (``"prune"`` in the config, ``--prune median``): Optuna's MedianPruner, built by every task
(a pruner is not stored in the study). It prunes a trial whose value at a step is worse than the
median of the completed trials' values at that step, once ``startup`` trials have completed
(``n_startup_trials``, Optuna's default 5) and from step ``warmup`` on (``n_warmup_steps``, 0).
"""

import json
import math
import os

PARAMS_FILE = "params.%s.json"


def _storage(journal):
    import optuna

    try:
        from optuna.storages.journal import JournalFileBackend as Backend  # optuna >= 4.0
    except ImportError:  # optuna 3.x
        from optuna.storages import JournalFileStorage as Backend
    return optuna.storages.JournalStorage(Backend(journal))


def _distributions(space):
    """The sweep's space (a random search's syntax) as Optuna distributions."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out = {}
    for name, dim in space.items():
        if isinstance(dim, list):
            out[name] = CategoricalDistribution(dim)
        elif dim.get("integer"):
            out[name] = IntDistribution(math.ceil(dim["low"]), math.floor(dim["high"]), log=bool(dim.get("log")))
        else:
            out[name] = FloatDistribution(dim["low"], dim["high"], log=bool(dim.get("log")))
    return out


def _sampler(config, index):
    import optuna

    seed = config.get("seed")
    if seed is not None:
        # One seed per task (and attempt): with one seed for all, tasks starting together would
        # draw the same point.
        seed = (int(seed) * 1000003 + index * 1009 + int(config.get("attempt") or 0)) % 2**32
    if config.get("sampler") == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    try:  # constant_liar: trials still running count as seen, so parallel tasks spread out
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True)
    except TypeError:  # an optuna without it
        return optuna.samplers.TPESampler(seed=seed)


def _pruner(config):
    import optuna

    prune = config.get("prune")
    if not prune:
        return None  # Optuna's default (MedianPruner) is never asked: tasks call should_prune only with prune
    return optuna.pruners.MedianPruner(n_startup_trials=int(prune.get("startup", 5)),
                                       n_warmup_steps=int(prune.get("warmup", 0)))


def _previous(study, path):
    """A requeued task (same job, same task: its params file is there): its trial if still RUNNING,
    else a new one with the same point (enqueued, then asked), so its checkpoint still fits."""
    from optuna.trial import Trial, TrialState

    try:
        with open(path) as handle:
            record = json.load(handle)
        frozen = study.get_trials(deepcopy=False)[int(record["trial"])]
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None
    if frozen.state is TrialState.RUNNING:
        return Trial(study, frozen._trial_id)
    study.enqueue_trial(frozen.params, skip_if_exists=False)
    return None


def ask(config, index, job_dir, task):
    """Open (or create) the study, ask it for a trial over the space; write ``params.<task>.json``
    for the results table. Returns (study, trial)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    os.makedirs(os.path.dirname(config["journal"]), exist_ok=True)
    study = optuna.create_study(
        study_name=config["study"],
        storage=_storage(config["journal"]),
        direction="maximize" if config.get("mode") == "max" else "minimize",
        sampler=_sampler(config, index),
        pruner=_pruner(config),
        load_if_exists=True,  # the first task to start creates it; the lock makes that safe
    )
    path = os.path.join(job_dir, PARAMS_FILE % task)
    trial = _previous(study, path) if os.path.exists(path) else None
    if trial is None:
        trial = study.ask(_distributions(config["space"]))
    record = {"index": index, "params": trial.params, "trial": trial.number, "study": config["study"]}
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w") as handle:
        json.dump(record, handle)
    os.replace(tmp, path)
    return study, trial


def report(trial, value, step, ask=True):
    """One step's value to the trial; with ``ask``, whether the pruner says stop."""
    import warnings

    with warnings.catch_warnings():  # a step told twice (a requeued task) is ignored, with a warning
        warnings.simplefilter("ignore")
        trial.report(float(value), int(step))
    return bool(ask and trial.should_prune())


def tell(study, trial, value, pruned=False):
    """The trial's result: a finite number completes it; None fails it (or prunes it)."""
    from optuna.trial import TrialState

    if pruned:
        study.tell(trial, state=TrialState.PRUNED)
    elif value is None:
        study.tell(trial, state=TrialState.FAIL)
    else:
        study.tell(trial, float(value))
