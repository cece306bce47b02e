# MMSeg's runtime plus the plugin: every mmseg_viladiff config inherits this.
_base_ = 'mmseg::_base_/default_runtime.py'

custom_imports = dict(imports=['mmseg_viladiff'], allow_failed_imports=False)
# Keeps Runner checkpoints loadable under torch's weights_only=True default.
custom_hooks = [dict(type='SafeCheckpointHook')]
