# The vision-language path for the ResNet-101-V1c DeepLabV3+ models on VOC
# (21 classes): the EfficientNet-Lite0 path's settings with the frozen CLIP
# ViT-B/16 text encoder (512-d) and a wider VLFusionNeck on the two deepest
# (stride-8, dilated) levels (1024 and 2048 channels).
_base_ = './vl_path_effnetl0.py'
promptor = dict(
    # open_clip fetches the OpenAI weights once into its cache
    text_encoder=dict(
        _delete_=True,
        type='OpenCLIPTextEncoder',
        model_name='ViT-B-16',
        pretrained='openai',
        allow_download=True),
    vocabulary='voc')
vl_neck = dict(
    in_channels=[256, 512, 1024, 2048],
    text_dim=512,
    num_classes=21,
    embed_dims=256,
    num_heads=8)
