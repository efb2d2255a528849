"""libnegsample from Python: ctypes, standard library only; numpy arrays are passed without
copies when present. See docs/python.md.

    import negsample as ns
    with ns.Popularity(n_items, seed=42, weights=counts, positives=ns.Csr(...)) as s:
        items, logq = s.sample(users, positives, k=5, step=0)
"""
from ._consts import *  # noqa: F401,F403  (the header's constants without NEGS_)
from ._lib import NegsError, WRITTEN_FOR, last_error, load, status_name, version
from .csr import Csr
from .freq import FrequencyEstimator
from .loss import Loss, adv_perturb, synth_negatives
from .sampler import (Category, Exposure, Hard, Mixture, Popularity, Sampler, Srns, Uniform,
                      Walk, mixed_logq)
from .xbm import CrossBatchMemory

__version__ = "%d.%d.%d" % WRITTEN_FOR
__all__ = ["NegsError", "load", "version", "status_name", "last_error", "Csr", "Sampler",
           "Uniform", "Popularity", "Category", "Exposure", "Mixture", "Hard", "Walk", "Srns",
           "FrequencyEstimator", "Loss", "adv_perturb", "synth_negatives",
           "mixed_logq", "CrossBatchMemory"]
