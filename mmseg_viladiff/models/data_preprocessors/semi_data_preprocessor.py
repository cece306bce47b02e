"""Normalise, pad and stack each branch of a semi-supervised batch."""
from typing import Any, Dict

from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS


@MODELS.register_module()
class SemiSegDataPreProcessor(SegDataPreProcessor):
    """``SegDataPreProcessor`` for batches packed by ``MultiViewPack``.

    In training, the collated ``data['inputs']`` is a dict
    ``{branch: [Tensor (3, H, W) | None, ...]}`` (one entry per sample, None
    where a sample has no such view) and ``data['data_samples']`` likewise;
    each branch's non-None entries are processed as one ordinary batch.
    Returns ``dict(inputs={branch: Tensor (B_branch, 3, H, W)},
    data_samples={branch: list[SegDataSample]})`` for the branches present.
    Any other batch (validation, testing, plain training) is processed
    exactly as by ``SegDataPreProcessor``. Arguments are the parent's.
    """

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        inputs = data['inputs']
        if not isinstance(inputs, dict):
            return super().forward(data, training)
        samples = data['data_samples']
        out_inputs, out_samples = {}, {}
        for branch, items in inputs.items():
            keep = [i for i, x in enumerate(items) if x is not None]
            if not keep:
                continue
            branch_data = super().forward(
                dict(
                    inputs=[items[i] for i in keep],
                    data_samples=[samples[branch][i] for i in keep]), training)
            out_inputs[branch] = branch_data['inputs']
            out_samples[branch] = branch_data['data_samples']
        return dict(inputs=out_inputs, data_samples=out_samples)
