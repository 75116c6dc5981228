"""leptonkit: a Jupyter teaching and analysis kit for privacy-preserving machine learning.

One module per topic (``crypto``, ``dp``, ``accounting``, ``fl``, ``mpc`` …), pure and testable
without a browser. The teaching layer sits on top and the library never imports it: ``plots``
(shared figure builders), ``widgets`` (the ``Explorer`` machinery), ``exercises`` (``check`` and
the registry) and ``lessons``, one module per notebook with its scenario, checkers and
explorers. Start with ``notebooks/00_welcome.ipynb``. ``set_language("zh-CN")`` (from ``i18n``)
switches what the teaching layer says to Simplified Chinese; the library's errors stay English.
"""

from .errors import InsufficientShares, IntegrityError, PrivacyBudgetExceeded
from .i18n import set_language

__version__ = "0.1.0"
__all__ = ["InsufficientShares", "IntegrityError", "PrivacyBudgetExceeded", "__version__", "set_language"]
