# DyCE (SemiDAViL, seed 003) for a mean-teacher config: both heads' losses
# weight each class by the running frequency f_c of the labels they see,
# w_c = (K f_c)^(omega - 1) with SemiDAViL's omega = 0.5, instead of static
# median-frequency weights (w_c ~ 1/f_c). The pseudo labels are weighted too
# and counted into f (unsup_class_weight=True): balancing them is the point
# of DyCE in a semi-supervised loop. Formula and its relation to SemiDAViL's
# released loss: mmseg_viladiff/models/losses/dynamic_class_balanced_ce.py.
# A config using it sets num_classes and puts `dyce` into both heads (see
# configs/viladiff/dyce_*.py).
dyce = dict(
    type='DynamicClassBalancedCELoss',
    omega=0.5,
    # two updates an iteration (labeled and unlabeled forward): a window of
    # about 50 iterations
    momentum=0.99,
    _delete_=True)
