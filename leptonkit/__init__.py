"""leptonkit: a Jupyter teaching and analysis kit for privacy-preserving machine learning.

One module per topic (``crypto``, later ``dp``, ``accounting``, ``fl``, ``mpc`` …), pure and
testable without a browser; ``plots`` builds figures, ``widgets`` wires sliders to them, and
``exercises.check`` marks the notebooks' exercises. Start with ``notebooks/00_welcome.ipynb``.
"""

from .errors import InsufficientShares, IntegrityError, PrivacyBudgetExceeded

__version__ = "0.1.0"
__all__ = ["InsufficientShares", "IntegrityError", "PrivacyBudgetExceeded", "__version__"]
