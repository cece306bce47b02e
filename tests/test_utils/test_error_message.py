"""What the tools print for an input error, also from a DataLoader worker."""
import pytest
from torch.utils.data import DataLoader, Dataset

from mmseg_viladiff.utils import DataError
from mmseg_viladiff.utils.tool_config import (error_message,
                                              exit_on_input_error)


class _BadMask(Dataset):

    def __len__(self):
        return 1

    def __getitem__(self, index):
        raise DataError('mask a.png holds label values [7]\nsecond line')


def test_worker_error_keeps_only_the_original_message():
    with pytest.raises(DataError) as err:
        next(iter(DataLoader(_BadMask(), num_workers=1)))
    assert 'DataLoader worker' in str(err.value)  # torch's wrapping
    assert error_message(err.value) == \
        'mask a.png holds label values [7]\nsecond line'
    assert error_message(DataError('plain')) == 'plain'


def test_exit_on_input_error_prints_one_line(capsys):

    def main():
        next(iter(DataLoader(_BadMask(), num_workers=1)))

    with pytest.raises(SystemExit) as ex:
        exit_on_input_error(main)
    assert ex.value.code == 1
    assert capsys.readouterr().err == (
        'error: mask a.png holds label values [7]\nsecond line\n')
