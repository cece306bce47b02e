"""Install mmseg_viladiff (``pip install -e .``).

The OpenMMLab stack and torch are installed by ``tools/setup_env.sh`` from
``requirements/``; mmcv 2.1.0 must be built from source, so it is not listed
in ``install_requires`` to keep pip from trying to build it in isolation.
"""
import os.path as osp

from setuptools import find_packages, setup


def read_version():
    scope = {}
    with open(osp.join('mmseg_viladiff', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def read_requirements(name):
    """Requirements of ``requirements/<name>``; the files pin the versions
    tested together, the package accepts those or newer."""
    path = osp.join('requirements', name)
    with open(path) as f:
        lines = [line.split('#')[0].strip() for line in f]
    return [line.replace('==', '>=') for line in lines if line]


setup(
    name='mmseg_viladiff',
    version=read_version(),
    description='Vision-language guidance and diffusion-refined pseudo labels '
    'for semi-supervised semantic segmentation, as an MMSegmentation plugin',
    packages=find_packages(include=['mmseg_viladiff', 'mmseg_viladiff.*']),
    python_requires='>=3.9',
    install_requires=read_requirements('runtime.txt'),
    extras_require=dict(
        vl=read_requirements('optional.txt'),
        tests=read_requirements('tests.txt')),
    license='Apache-2.0',
    zip_safe=False)
