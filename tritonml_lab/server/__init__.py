"""The server room: what runs only inside the Jupyter server process.

The extension's wiring and settings (``extension.py``, ``config.py``), the REST and push handlers
(``handlers/``), the one-per-server parts (``services.py``: the job monitor, the job directories'
reader, the job service, the notebook runs) and the API's contract (``api_models.py``,
``event_models.py``, ``apischema.py``). It uses the shared core (``jobs/``, ``slurm/``, ``advice/``,
``metrics/``, ...); nothing in the core, ``kernel/`` or ``injob/`` imports it (``tests/test_rooms.py``).
This module imports nothing, so that Jupyter's entry points stay cheap.
"""
