# UniMatch's perturbations (Yang et al., CVPR 2023) for a mean-teacher
# config: a second strong view of every unlabeled crop and the
# feature-perturbation branch (channel dropout 0.5 on the student's features
# of the weak view), weighted as UniMatch's unimatch.py weighs its losses:
# (L_sup + 0.25 L_s1 + 0.25 L_s2 + 0.5 L_fp) / 2. A config using it sets
# model.semi_train_cfg from it and adds `unimatch_views` to the views of its
# unlabeled MultiViewPack (see configs/viladiff/unimatch_*.py).
unimatch_semi_train_cfg = dict(
    sup_weight=0.5,
    # 0.25 / strong_views = 0.125 on each strong view
    unsup_weight=0.25,
    strong_views=2,
    fp_weight=0.25,
    fp_dropout=0.5)
# the second strong view (the first is the mean teacher's `unsup_strong`):
# colour jitter, greyscale and blur drawn independently of the first
unimatch_views = dict(unsup_strong2=[dict(type='StrongPhotometricAug')])
