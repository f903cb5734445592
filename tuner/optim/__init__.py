"""NumPy optimizers with ``torch.optim``'s names, arguments, defaults and update rules.

>>> import numpy as np
>>> from tuner.optim import SGD
>>> w = np.array([1.0, -2.0])
>>> opt = SGD([w], lr=0.1, momentum=0.9)
>>> opt.step([2 * w])          # the gradient of |w|²
>>> w
array([ 0.8, -1.6])
"""

from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .nadam import NAdam
from .optimizer import Optimizer
from .registry import OPTIMIZERS, OptimizerEntry, create
from .rmsprop import RMSprop
from .sgd import SGD
from .swats import SWATS

__all__ = ["OPTIMIZERS", "Adadelta", "Adagrad", "Adam", "AdamW", "NAdam", "Optimizer",
           "OptimizerEntry", "RMSprop", "SGD", "SWATS", "create"]
