"""Weight schedules for the unsupervised losses."""
import math


def sigmoid_rampup(step: int, length: int) -> float:
    """exp(-5 (1 - t)^2) with t = step / length clipped to [0, 1]
    (Laine & Aila, ICLR 2017); 1 from the start when ``length <= 0``."""
    if length <= 0:
        return 1.0
    t = min(max(step, 0), length) / length
    return math.exp(-5.0 * (1.0 - t)**2)


def linear_decay(step: int, length: int) -> float:
    """1 - t / length clamped to [0, 1]: 1 at step 0, 0 from ``length`` on
    (SemiVL's schedule of its dense guidance weight); ``length`` > 0."""
    if length <= 0:
        raise ValueError(f'linear_decay needs length > 0, got {length}')
    return min(1.0, max(0.0, 1.0 - step / length))
