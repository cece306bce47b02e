# The CamVid baseline trained on all 367 labeled train images (the ceiling of
# the semi-supervised settings).
_base_ = './deeplabv3p_effnetl0_camvid_1-8.py'
train_dataloader = dict(dataset=dict(split_file='train.txt'))
