import numpy as np
import pytest

from mmseg_viladiff.datasets import CheckSegLabels
from mmseg_viladiff.utils import DataError


def _results(label, **extra):
    return dict(
        gt_seg_map=np.asarray(label, np.uint8),
        seg_map_path='ann/a.png',
        **extra)


def test_valid_labels_and_ignore_pass_unchanged():
    results = _results([[0, 1, 2], [255, 2, 0]])
    assert CheckSegLabels(num_classes=3)(results) is results


@pytest.mark.parametrize('label, values', [
    ([[0, 3, 1]], [3]),
    ([[7, 254, 3], [0, 7, 1]], [3, 7, 254]),
])
def test_values_outside_the_classes_name_file_and_values(label, values):
    with pytest.raises(DataError) as err:
        CheckSegLabels(num_classes=3)(_results(label))
    assert str(err.value).startswith(
        f'mask ann/a.png holds label values {values} outside the 3 classes '
        '(valid: 0..2 and 255 = ignore); if 0 marks unlabeled pixels')


def test_reduce_zero_label_reports_values_as_on_disk():
    # on disk 1..3 are the classes; 5 became 4 after reduce_zero_label
    with pytest.raises(
            DataError,
            match=r'values \[4\] .* on disk these '
            r'are \[5\] \(reduce_zero_label=True'):
        CheckSegLabels(num_classes=3)(
            _results([[0, 4, 255]], reduce_zero_label=True))


def test_colour_mask_is_named():
    with pytest.raises(
            DataError,
            match=r'mask ann/a.png has shape '
            r'\(2, 2, 3\): masks must be one-channel'):
        CheckSegLabels(num_classes=3)(_results(np.zeros((2, 2, 3))))


def test_num_classes_must_be_positive():
    with pytest.raises(ValueError, match='num_classes'):
        CheckSegLabels(num_classes=0)
