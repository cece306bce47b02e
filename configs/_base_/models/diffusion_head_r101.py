# EdgeAwareMixDiffusionHead for the ResNet-101-V1c DeepLabV3+ models on VOC:
# the EfficientNet-Lite0 head's settings on the stride-4 features (256
# channels) with 64 channels of its own, 21 classes and 2-pixel edges.
_base_ = './diffusion_head_effnetl0.py'
diffusion_head = dict(
    in_channels=256, channels=64, num_classes=21, edge_width=2)
