"""select_refined: which class and which confidence a pseudo label gets."""
import pytest
import torch

from mmseg_viladiff.models.utils import select_refined


def _probs(rows):
    """[[p(class 0), p(class 1)] per pixel] -> (1, 2, 1, P)."""
    return torch.tensor(rows, dtype=torch.float).t()[None, :, None]


def test_refined_mode_takes_the_refined_class_and_confidence():
    first = _probs([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
    refined = _probs([[0.3, 0.7], [0.55, 0.45], [0.1, 0.9]])
    probs, labels, conf = select_refined(first, refined, 'refined')
    assert probs is refined
    assert labels.flatten().tolist() == [1, 0, 1]
    assert conf.flatten().tolist() == pytest.approx([0.7, 0.55, 0.9])


def test_first_mode_keeps_the_first_confidence_and_changes_sure_labels():
    first = _probs([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
    refined = _probs([[0.3, 0.7], [0.45, 0.55], [0.1, 0.9]])
    probs, labels, conf = select_refined(first, refined, 'first', 0.6)
    assert probs is first
    # pixel 0: refined sure (0.7 >= 0.6) -> 1; pixel 1: refined unsure
    # (0.55) -> the first head's 0; pixel 2: both say 1
    assert labels.flatten().tolist() == [1, 0, 1]
    assert conf.flatten().tolist() == pytest.approx([0.9, 0.6, 0.8])
    with pytest.raises(ValueError, match='mode'):
        select_refined(first, refined, 'calibrated')
