"""The kernel side of tritonml-lab: what ``%load_ext tritonml_lab`` runs in the user's kernel.

:mod:`tritonml_lab.magics` keeps the ``%tritonml`` / ``%%tritonml`` magic itself (its settings, the
dispatch to a command, ``load_ipython_extension``); the rest is here, in small modules:

==================  ================================================================================
``options``         the argparse parsers of every command, and the help built from them
``values``          option values into spec fields: --grid/--space/-p, --env, --workdir, --in/--out;
                    validation errors back into option names
``client``          :class:`~.client.KernelClient`: the jobs root, the Slurm client, the one
                    Launcher and the sweep service over it; the submission's origin and environment
``loop``            the background event loop the synchronous magics run coroutines on
``jobdir``          the runner's files in a job directory: written at submission, read back (exit
                    codes, clean ends, --out values, a log's tail)
``display``         text (status, the jobs table), HTML (a sweep's table), creating the widgets
``submit``          ``submit``, waiting (``--wait``), ``fetch``, ``cancel``; :class:`JobFailed`
``sweep``           ``sweep``, ``sweep-results``, ``sweep-retry``, ``sweep-cancel``
``run_notebook``    ``run-notebook``
``job_commands``    ``%tritonml`` alone, ``jobs``, ``status``, ``logs``, ``fetch``, ``cancel``,
                    ``efficiency``, ``report``
``resubmit``        ``resubmit ID [--suggested]``: the job's own cell again, as it was or right-sized
==================  ================================================================================

**Command groups are mixins** composed by ``TritonMLMagics``, not functions taking the magics'
state. The groups share one mutable state (the lazily built store, Slurm client, launcher and sweep
service, which tests and users reset by setting the magics' traits; the last job and sweep for the
``last`` id), and the job widget calls back into ``fetch`` and ``cancel`` as bound methods. As
mixins over one :class:`~.client.KernelClient` base they read that state as ``self`` like before,
and the magics object keeps its methods (``wait``, ``fetch``, ``cancel``, ``build_spec``,
``build_sweep``) without a layer of wrappers. A group that uses another says so by subclassing it
(``run_notebook`` and ``job_commands`` build on ``submit``), so the dependencies stay visible and
one-way. What needs no state (parsing, display, job-directory readers) is plain functions.

**The client talks to the launcher, not to the server's REST API**, even in a kernel a server
started:

- a submission made from the kernel must inherit the kernel's environment (its modules, conda env,
  variables) and run the cell with the kernel's Python; sbatch run by the server would get the
  server's, or the whole environment sent over HTTP;
- the kernel does not have the server's token at hand (a kernel the server starts inherits the jobs
  root, the admin's defaults and the catalog roots the server exports into its environment, not its
  credentials), and a kernel started from a terminal or another server has no tritonml-lab server
  at all: the magics must work stand-alone;
- :class:`~tritonml_lab.jobs.launcher.Launcher` is the code the server's ``JobService``, sweeps and
  notebook runs use, with the admin's defaults the server exports to its kernels
  (``TRITONML_DEFAULTS``), so both routes already meet in one code path; a REST client would add a
  second serialisation of the same request without removing any code.

The widgets' views, which run in the browser, do read the server (its shared job monitor), so the
kernel never polls Slurm to keep a widget live; it asks Slurm only while a command runs (``--wait``,
``logs --follow``, ``status``, ``jobs``, ``efficiency``, the sweep commands).

Imports go downward only: ``kernel`` uses ``jobs``, ``notebooks``, ``sweeps``, ``slurm``,
``metrics``, ``connection`` and ``widgets``; nothing of the package imports ``kernel`` but
``magics``. No Tornado, no handlers or server extension here.
"""
