"""What a jobs root holds, for the tests that check a refused submission left nothing behind."""

from pathlib import Path


def leftovers(root: Path) -> list[Path]:
    """Everything in ``root`` but ``.tritonml/`` (the shared copy of the in-job sampler, written
    before the first submission and kept for every later one)."""
    return sorted(p for p in Path(root).iterdir() if p.name != ".tritonml")
