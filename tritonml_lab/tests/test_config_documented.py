"""Every admin setting is a traitlet with the rules' own default, and the admin guide documents it:
a threshold added to the advice rules without its c.TritonML.advice_* setting would leave sites with
no way to tune it (it happened once)."""

from dataclasses import fields
from pathlib import Path

from tritonml_lab.advice.thresholds import Thresholds
from tritonml_lab.server.config import TritonML

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "admin-guide.md"


def test_each_threshold_has_its_traitlet_with_the_same_default():
    config = TritonML()
    for field in fields(Thresholds):
        name = f"advice_{field.name}"
        assert config.has_trait(name), f"c.TritonML.{name} is missing (advice/thresholds.py has {field.name})"
        assert getattr(config, name) == field.default, name
    assert Thresholds.from_config(config) == Thresholds()


def test_each_setting_is_in_the_admin_guide():
    guide = GUIDE.read_text()
    undocumented = [name for name in TritonML.class_own_traits(config=True) if f"`{name}`" not in guide]
    assert not undocumented, f"not in docs/admin-guide.md: {undocumented}"
