"""Result tracking: report(step=...) as TensorBoard scalars (convert.py), TensorBoards run by the server
(tensorboard.py, tbserve.py), what they show (targets.py). No Tornado here: handlers/tracking.py serves it."""

from .convert import INSTALL_HINT, ReportConverter, TrackingUnavailable
from .tensorboard import Instance, Target, TensorBoards

__all__ = ["INSTALL_HINT", "Instance", "ReportConverter", "Target", "TensorBoards", "TrackingUnavailable"]
