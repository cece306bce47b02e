"""Weight schedules for the unsupervised loss."""
import math


def sigmoid_rampup(step: int, length: int) -> float:
    """exp(-5 (1 - t)^2) with t = step / length clipped to [0, 1]
    (Laine & Aila, ICLR 2017); 1 from the start when ``length <= 0``."""
    if length <= 0:
        return 1.0
    t = min(max(step, 0), length) / length
    return math.exp(-5.0 * (1.0 - t)**2)
