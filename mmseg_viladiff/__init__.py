"""mmseg_viladiff: vision-language guidance and diffusion-refined pseudo
labels for semi-supervised semantic segmentation, as an MMSegmentation 1.x
plugin. Importing the package registers its components in MMSeg's
registries (``custom_imports=dict(imports=['mmseg_viladiff'])``)."""
import mmcv
import mmengine
import mmseg
from mmengine.utils import digit_version

from .version import __version__

#: (package, installed version, minimum inclusive, maximum exclusive)
_REQUIRED = (
    ('mmcv', mmcv.__version__, '2.0.0rc4', '2.2.0'),
    ('mmengine', mmengine.__version__, '0.10.0', '1.0.0'),
    ('mmsegmentation', mmseg.__version__, '1.2.0', '1.3.0'),
)


def _check_versions():
    for name, installed, low, high in _REQUIRED:
        if not digit_version(low) <= digit_version(installed) < \
                digit_version(high):
            raise ImportError(
                f'mmseg_viladiff {__version__} needs {low} <= {name} < '
                f'{high}, but {name} {installed} is installed. Run '
                '`bash tools/setup_env.sh` or install the pins in '
                'requirements/mminstall.txt.')


_check_versions()

from . import datasets, engine, models, text  # noqa: E402,F401

__all__ = ['__version__']
