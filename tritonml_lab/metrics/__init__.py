"""GPU/CPU metrics of jobs: the in-job sampler (a self-contained, stdlib-only file that is copied
into the job directory and run with the job's own Python) and readers of what it writes."""

import os

#: Path of the sampler script, to copy into a job directory (it must not import this package).
SAMPLER_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sampler.py")


def sampler_source():
    """The sampler script's text."""
    with open(SAMPLER_PATH, encoding="utf-8") as f:
        return f.read()
