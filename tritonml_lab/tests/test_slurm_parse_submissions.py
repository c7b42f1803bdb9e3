"""Finding a submission in accounting by its --comment token (reconciliation after a crash): sacct's
JobID|Comment|SubmitLine text, recorded on both lanes (22.05 keeps no Comment without
AccountingStoreFlags=job_comment, so the token is read from SubmitLine)."""

from pathlib import Path

import pytest

from tritonml_lab.jobs.launcher import _TOKEN
from tritonml_lab.slurm import parse

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("release", ["slurm-22.05", "slurm-24.11"])
def test_every_recorded_line_gives_its_first_id_and_the_rest(release):
    text = (DATA / release / "sacct-comments.txt").read_text()
    found = parse.accounted_submissions(text)
    assert len(found) == len(text.splitlines())
    assert all(job_id.isdigit() for job_id, _ in found)
    # Array tasks and a pending array's range are known by the array's id, as squeue's %F.
    tokens = {}
    for job_id, rest in found:
        for token in _TOKEN.findall(rest):
            tokens.setdefault(token, set()).add(job_id)
    assert tokens and all(len(ids) == 1 for ids in tokens.values()), tokens


def test_values_on_the_22_05_recording():
    found = parse.accounted_submissions((DATA / "slurm-22.05" / "sacct-comments.txt").read_text())
    assert found[1] == ("2", "|sbatch --parsable --comment=tritonml:434ab0edd640107c")
    assert ("15", "|sbatch --parsable --comment=tritonml:068771c73aa35558 --hold") in found
    assert ("529", "|sbatch --parsable --comment=tritonml:8a3f8b1f002ec65c") in found  # 529_[0-2%2]
    # A short token (a hand-written comment) is no tritonml token.
    assert _TOKEN.findall(found[0][1]) == []


def test_values_on_the_24_11_recording():
    found = dict(parse.accounted_submissions((DATA / "slurm-24.11" / "sacct-comments.txt").read_text()))
    assert _TOKEN.findall(found["6"]) == ["tritonml:914b22ab36c448e5"]  # from 6_0 and 6_1
    assert _TOKEN.findall(found["14"]) == []  # a plain sbatch of a script file


def test_a_submit_line_holding_the_separator_and_junk_lines():
    text = "7+0|tritonml:0123456789abcdef|sbatch --wrap 'a|b'\n\nJobID|Comment\n  42.batch||\n"
    assert parse.accounted_submissions(text) == [("7", "tritonml:0123456789abcdef|sbatch --wrap 'a|b'"),
                                                  ("42", "|")]
