"""tritonml-lab: a JupyterLab extension that makes a Slurm GPU cluster feel interactive."""

try:
    from ._version import __version__
except ImportError:  # running from a source tree that was never built
    import warnings

    warnings.warn("Importing 'tritonml_lab' outside a proper installation.", stacklevel=2)
    __version__ = "dev"


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "tritonml-lab"}]


def _jupyter_server_extension_points():
    return [{"module": "tritonml_lab"}]


def _load_jupyter_server_extension(server_app):
    """Register the API handlers and start the shared services of this server."""
    from .server.extension import load

    load(server_app)


def _unload_jupyter_server_extension(server_app):
    """Stop background work (the catalog's size scan) when the server shuts down."""
    from .server.extension import unload

    unload(server_app)


def load_ipython_extension(ipython):
    """``%load_ext tritonml_lab``: the %%tritonml magics (kernel side)."""
    from .magics import load_ipython_extension as load

    load(ipython)
