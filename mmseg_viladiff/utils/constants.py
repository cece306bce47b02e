"""Values shared across the package."""

#: MMSeg's ignore label: never a training target, never counted in metrics
IGNORE_INDEX = 255
