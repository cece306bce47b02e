"""Photometric "strong view" augmentation for consistency training."""
from typing import Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class StrongPhotometricAug(BaseTransform):
    """Colour jitter, random greyscale and Gaussian blur on ``results['img']``.

    The strong view of FixMatch-style training (Sohn et al., NeurIPS 2020;
    for segmentation e.g. UniMatch, Yang et al., CVPR 2023). Only pixel values
    change, never geometry, so the strong view stays aligned with the weak
    view it is made from, and labels (if any) are untouched.

    Args:
        jitter_prob (float): probability of colour jitter. Defaults to 0.8.
        brightness (float): brightness factor drawn from [1 - b, 1 + b].
        contrast (float): contrast factor drawn from [1 - c, 1 + c].
        saturation (float): saturation factor drawn from [1 - s, 1 + s].
        hue (float): hue shift drawn from [-h, h], in turns (0.5 = 180 deg).
        grey_prob (float): probability of greyscale. Defaults to 0.2.
        blur_prob (float): probability of Gaussian blur. Defaults to 0.5.
        blur_sigma (tuple[float]): blur sigma range in pixels.
    """

    def __init__(self,
                 jitter_prob: float = 0.8,
                 brightness: float = 0.5,
                 contrast: float = 0.5,
                 saturation: float = 0.5,
                 hue: float = 0.25,
                 grey_prob: float = 0.2,
                 blur_prob: float = 0.5,
                 blur_sigma: Sequence[float] = (0.1, 2.0)) -> None:
        probs = dict(
            jitter_prob=jitter_prob, grey_prob=grey_prob, blur_prob=blur_prob)
        for name, p in probs.items():
            if not 0 <= p <= 1:
                raise ValueError(f'{name} must be in [0, 1], got {p}')
        if not 0 < blur_sigma[0] <= blur_sigma[1]:
            raise ValueError(f'blur_sigma must be 0 < lo <= hi, got '
                             f'{blur_sigma}')
        self.jitter_prob = jitter_prob
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.hue = hue
        self.grey_prob = grey_prob
        self.blur_prob = blur_prob
        self.blur_sigma: Tuple[float, float] = tuple(blur_sigma)

    @staticmethod
    def _factor(strength: float) -> float:
        return float(np.random.uniform(max(0., 1 - strength), 1 + strength))

    def _jitter(self, img: np.ndarray) -> np.ndarray:
        """Brightness, contrast, saturation, hue in random order; (H, W, 3)
        BGR float32 in [0, 255]."""
        for op in np.random.permutation(4):
            if op == 0:
                img = img * self._factor(self.brightness)
            elif op == 1:
                mean = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).mean()
                img = (img - mean) * self._factor(self.contrast) + mean
            elif op == 2:
                grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)[..., None]
                img = (img - grey) * self._factor(self.saturation) + grey
            else:
                hsv = cv2.cvtColor(img / 255., cv2.COLOR_BGR2HSV)  # H in deg
                shift = np.random.uniform(-self.hue, self.hue) * 360.
                hsv[..., 0] = (hsv[..., 0] + shift) % 360.
                img = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR) * 255.
            img = np.clip(img, 0, 255).astype(np.float32)
        return img

    def transform(self, results: dict) -> dict:
        img = results['img']
        dtype = img.dtype
        out = img.astype(np.float32)
        if np.random.rand() < self.jitter_prob:
            out = self._jitter(out)
        if np.random.rand() < self.grey_prob:
            grey = cv2.cvtColor(out, cv2.COLOR_BGR2GRAY)
            out = np.repeat(grey[..., None], 3, axis=2)
        if np.random.rand() < self.blur_prob:
            sigma = np.random.uniform(*self.blur_sigma)
            out = cv2.GaussianBlur(out, (0, 0), sigmaX=sigma)
        results['img'] = np.clip(out, 0, 255).astype(dtype)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(jitter_prob={self.jitter_prob}, '
                f'grey_prob={self.grey_prob}, blur_prob={self.blur_prob})')
