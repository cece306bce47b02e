"""``RefineCascadeEncoderDecoder``: a cascade whose refining heads read the
previous head's features."""
from mmseg.models.segmentors import CascadeEncoderDecoder
from mmseg.registry import MODELS

from ..utils.cascade import link_cascade_heads, load_plain_into_first_head



@MODELS.register_module()
class RefineCascadeEncoderDecoder(CascadeEncoderDecoder):
    """MMSeg's ``CascadeEncoderDecoder`` plus one step after building the
    heads: :func:`link_cascade_heads`, so that e.g.
    ``EdgeAwareMixDiffusionHead(condition_on_decoder=True)`` is conditioned
    on DeepLabV3+'s decoder features (the input of its classifier), not on
    backbone features alone; and a checkpoint of a plain segmentor (one
    decode head) loads into the first head, so a refining head can be
    trained on top of a supervised model (``load_from``). Everything else is
    MMSeg's cascade.
    """

    def _init_decode_head(self, decode_head) -> None:
        super()._init_decode_head(decode_head)
        link_cascade_heads(self.decode_head)
        self._register_load_state_dict_pre_hook(self._load_plain_checkpoint)

    @staticmethod
    def _load_plain_checkpoint(state_dict, prefix, *args) -> None:
        load_plain_into_first_head(state_dict, prefix)
