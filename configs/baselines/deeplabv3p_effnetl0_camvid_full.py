# The CamVid baseline trained on all 367 labeled train images (the ceiling of
# the semi-supervised settings), with class weights of those 367 images.
_base_ = './deeplabv3p_effnetl0_camvid_1-8.py'
class_weight = '{{fileDirname}}/../_base_/datasets/camvid_full_class_weights.json'
model = dict(
    decode_head=dict(loss_decode=dict(class_weight=class_weight)),
    auxiliary_head=dict(loss_decode=dict(class_weight=class_weight)))
train_dataloader = dict(dataset=dict(split_file='train.txt'))
