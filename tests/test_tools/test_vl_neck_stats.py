"""tools/vl_neck_stats.py: how far a checkpoint's VLFusionNeck moved."""
import pytest
import torch
from tools_loader import load_tool

stats = load_tool('vl_neck_stats')


def _state():
    return {
        'student.neck.caption_attn.2.gate': torch.tensor([0.5]),
        'teacher.neck.caption_attn.2.gate': torch.tensor([-0.1]),
        'student.neck.class_path.3.feedback.weight': torch.tensor(
            [[-2.0, 1.0]]),
        'student.neck.vision_path.3.out.weight': torch.zeros(2, 2),
        'student.neck.caption_attn.2.out.weight': torch.tensor([[0.3, -0.4]]),
        'student.backbone.conv.weight': torch.ones(3),  # not the neck
    }


def test_stats_of_each_neck_part():
    rows = {(m, p, lvl): v for m, p, lvl, v in stats.neck_stats(_state())}
    assert len(rows) == 5
    assert rows['student', 'caption output, max abs weight', 2] == \
        pytest.approx(0.4)
    assert abs(rows['student', 'caption gate tanh(g)', 2] -
               torch.tanh(torch.tensor(0.5)).item()) < 1e-6
    assert abs(rows['teacher', 'caption gate tanh(g)', 2] -
               torch.tanh(torch.tensor(0.1)).item()) < 1e-6
    assert rows['student', 'class feedback, max abs weight', 3] == 2.0
    assert rows['student', 'vision adapter output, max abs weight', 3] == 0


def test_reads_a_checkpoint_with_safe_loading(tmp_path, capsys):
    path = tmp_path / 'ckpt.pth'
    torch.save(dict(state_dict=_state(), meta=dict(iter=4)), path)
    assert stats.main([str(path)]) == 0
    out = capsys.readouterr().out
    assert '| student | caption gate tanh(g) | 2 | 4.62e-01 |' in out
    torch.save(dict(state_dict={'backbone.w': torch.ones(1)}), path)
    assert stats.main([str(path)]) == 1
