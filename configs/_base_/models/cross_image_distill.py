# Cross-image distillation (seed 004) as `semi_train_cfg.feature_distill`:
# the student's backbone features of the strong unlabeled crops are pulled
# to those of the labeled crops (labeled side detached): their set-averaged
# channel x channel cosine relations (RelationDistillLoss) and their channel
# means and standard deviations (StyleDistillLoss). Equations: docs/method.md,
# "Cross-image distillation". Weights: each term about a tenth of the
# supervised loss (0.5) at the CamVid burn-in start (EfficientNet-Lite0's
# deepest level on the supervised seed-0 model, 3 batches: relation 0.014,
# style 0.016-0.021 at weight 1); not tuned for other backbones.
feature_distill = [
    dict(type='RelationDistillLoss', loss_weight=4.0),
    dict(type='StyleDistillLoss', loss_weight=3.0)
]
