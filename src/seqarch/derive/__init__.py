"""Derive: NumPy forward passes with hand-written backward passes (BPTT), checked against
finite differences and PyTorch autograd; step-by-step walkthroughs with live numbers; and
gradient flow measured on ``seqarch.models``.

    from seqarch.derive import check_all, walkthrough, gradient_flow
"""

from __future__ import annotations

from .flow import decay_ratio, gradient_flow
from .gradcheck import AUTOGRAD_TOLERANCE, FD_TOLERANCE, GradCheck, check, check_all
from .numpy_models import NUMPY_MODELS, numpy_model
from .walkthrough import Walkthrough, walkthrough

__all__ = [
    "AUTOGRAD_TOLERANCE",
    "FD_TOLERANCE",
    "GradCheck",
    "NUMPY_MODELS",
    "Walkthrough",
    "check",
    "check_all",
    "decay_ratio",
    "gradient_flow",
    "numpy_model",
    "walkthrough",
]
