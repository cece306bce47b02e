# MMSeg's runtime plus the plugin: every mmseg_viladiff config inherits this.
_base_ = 'mmseg::_base_/default_runtime.py'

custom_imports = dict(imports=['mmseg_viladiff'], allow_failed_imports=False)
# Checkpoints load under torch's weights_only=True default, and --resume
# continues the random streams (dropout, CutMix) where training stopped.
custom_hooks = [
    dict(type='SafeCheckpointHook'),
    dict(type='RandomStateHook'),
]
