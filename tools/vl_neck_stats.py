"""How far a checkpoint's VLFusionNeck has moved from the identity.

A fresh ``VLFusionNeck`` passes features through unchanged: the caption
cross-attention's gate, the class path's feedback convolution and the
vision adapters' output convolution start at zero. If they are still near
zero after training, the neck cannot be using the text, whatever the
captions say. This prints, for the student and the teacher, the
``tanh(gate)`` of each caption level and the largest absolute weight of
each caption output projection, class feedback and vision adapter
output.

    python tools/vl_neck_stats.py CHECKPOINT
"""
import argparse
import re
import sys
from typing import Dict, List, Tuple

import torch

#: (parameter name pattern, what it is, how it is summarised)
PARTS = (
    (r'caption_attn\.(\d+)\.gate$', 'caption gate tanh(g)', 'tanh'),
    (r'caption_attn\.(\d+)\.out\.weight$', 'caption output, max abs weight',
     'absmax'),
    (r'class_path\.(\d+)\.feedback\.weight$', 'class feedback, max abs weight',
     'absmax'),
    (r'vision_path\.(\d+)\.out\.weight$', 'vision adapter output, max abs weight',
     'absmax'),
)


def neck_stats(state_dict: Dict[str, torch.Tensor]) -> List[Tuple]:
    """(model, part, level, value) for every neck parameter of ``PARTS``
    in a (semi-supervised or plain) segmentor state dict."""
    rows = []
    for name, value in state_dict.items():
        model = name.split('.', 1)[0] if name.startswith(
            ('student.', 'teacher.')) else 'model'
        if '.neck.' not in f'.{name}':
            continue
        for pattern, part, how in PARTS:
            match = re.search(pattern, name)
            if match is None:
                continue
            v = value.float()
            stat = torch.tanh(v).abs().max() if how == 'tanh' else \
                v.abs().max()
            rows.append((model, part, int(match.group(1)), float(stat)))
    return sorted(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('checkpoint')
    args = parser.parse_args(argv)
    # safe loading: Runner checkpoints need only the numpy globals the
    # package allows (mmseg_viladiff.engine.checkpoint)
    from mmseg_viladiff.engine.checkpoint import register_safe_globals
    register_safe_globals()
    state = torch.load(args.checkpoint, map_location='cpu', weights_only=True)
    state = state.get('state_dict', state)
    rows = neck_stats(state)
    if not rows:
        print(f'{args.checkpoint}: no VLFusionNeck parameters',
              file=sys.stderr)
        return 1
    print('| model | part | level | value |')
    print('| --- | --- | ---: | ---: |')
    for model, part, level, value in rows:
        print(f'| {model} | {part} | {level} | {value:.2e} |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
