"""The admin's job defaults reach the kernel side: %%tritonml submit fills in what the dialog would."""

import os

import pytest
from IPython.core.interactiveshell import InteractiveShell

from tritonml_lab.jobs.script import Defaults
from tritonml_lab.jobs.server_defaults import DEFAULTS_ENV, export_defaults, kernel_defaults
from tritonml_lab.magics import TritonMLMagics


def test_round_trip_unknown_fields_and_bad_values():
    env = {}
    export_defaults(Defaults(partition="gpu-debug", time="00:05:00", mem="4G", sampler_python=None), env)
    back = kernel_defaults(env)
    assert (back.partition, back.time, back.mem, back.sampler_python) == ("gpu-debug", "00:05:00", "4G", None)
    # A newer server may export more: what this version does not know is ignored.
    assert kernel_defaults({DEFAULTS_ENV: '{"partition": "p", "future_field": 1}'}).partition == "p"
    for bad in ("not json", "[1, 2]", '"text"'):
        assert kernel_defaults({DEFAULTS_ENV: bad}) == Defaults()
    assert kernel_defaults({}) == Defaults()


@pytest.fixture
def forget_export():
    """The server sets the variable in this process's environment: later tests must not see it."""
    yield
    os.environ.pop(DEFAULTS_ENV, None)


@pytest.fixture
def jp_server_config(jp_server_config, forget_export):
    jp_server_config["TritonML"].update(default_partition="gpu-debug", default_time="00:07:00")
    return jp_server_config


async def test_the_server_exports_its_traitlets_to_the_kernels_it_starts(jp_serverapp, monkeypatch, capsys):
    exported = os.environ[DEFAULTS_ENV]
    assert kernel_defaults().partition == "gpu-debug"
    # A kernel started now inherits the variable; its magics render the admin's defaults.
    monkeypatch.setenv(DEFAULTS_ENV, exported)
    magics = TritonMLMagics(shell=InteractiveShell.instance())
    magics.tritonml("submit --dry-run", "print(1)\n")
    script = capsys.readouterr().out
    assert "#SBATCH --partition=gpu-debug" in script and "site default" in script
    assert "#SBATCH --time=00:07:00" in script
