"""Temperature scaling: the fit recovers a known temperature."""
import pytest
import torch

from mmseg_viladiff.models.decode_heads import fit_temperature


def test_fit_recovers_the_temperature_of_overconfident_logits():
    g = torch.Generator().manual_seed(0)
    true = 2.0 * torch.randn(2, 5, 64, 64, generator=g)  # calibrated logits
    # labels drawn from the calibrated softmax
    probs = true.softmax(1).permute(0, 2, 3, 1).reshape(-1, 5)
    labels = torch.multinomial(probs, 1, generator=g).view(2, 64, 64)
    labels[:, :4] = 255  # ignored rows take no part
    fitted = fit_temperature(3.0 * true, labels)  # 3x too confident
    assert fitted == pytest.approx(3.0, rel=0.1)
    assert fit_temperature(true, labels) == pytest.approx(1.0, rel=0.1)
    assert fit_temperature(true, torch.full_like(labels, 255)) is None
