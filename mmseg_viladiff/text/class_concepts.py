"""Concept lists: several short phrases per class, one dict per dataset.

A class name alone is a poor text query when the class is a union of
things ('background' in VOC, 'car' in CamVid, which covers vans and
buses) or when the name is ambiguous. SemiVL (Hoyer et al., ECCV 2024,
"class definitions") gives each class a list of concept phrases, embeds
each phrase, and either averages the embeddings (one vector per class) or
takes the maximum of the per-phrase similarity maps. The phrases below are
this project's own; keys are the class names exactly as the dataset spells
them, in label order, and the first phrase of each list is the class's
prompt name.
"""

# yapf: disable
CAMVID_CONCEPTS = {
    'sky': ('sky', 'clouds', 'overcast sky'),
    'building': ('building', 'house', 'shop front', 'wall of a building',
                 'bridge'),
    'pole': ('pole', 'lamp post', 'sign post', 'bollard'),
    'road': ('road', 'street', 'lane marking', 'asphalt'),
    'pavement': ('pavement', 'sidewalk', 'footpath', 'kerb'),
    'tree': ('tree', 'bush', 'hedge', 'vegetation'),
    'signsymbol': ('sign symbol', 'traffic sign', 'traffic light',
                   'street sign'),
    'fence': ('fence', 'railing', 'barrier'),
    'car': ('car', 'van', 'truck', 'bus'),
    'pedestrian': ('pedestrian', 'person walking', 'child', 'people'),
    'bicyclist': ('bicyclist', 'cyclist', 'person riding a bike',
                  'motorcyclist'),
}

VOC_CONCEPTS = {
    'background': ('background', 'sky', 'wall', 'floor', 'ground', 'grass',
                   'road', 'building', 'tree', 'water', 'mountain',
                   'ceiling', 'window', 'door', 'curtain', 'shelf', 'bed',
                   'kitchen counter', 'truck', 'bench',
                   'desk', 'lamp', 'book', 'rock', 'sand', 'snow'),
    'aeroplane': ('aeroplane', 'airplane', 'jet', 'glider'),
    'bicycle': ('bicycle', 'bike', 'tricycle'),
    'bird': ('bird', 'parrot', 'duck', 'seagull'),
    'boat': ('boat', 'ship', 'sailing boat', 'canoe'),
    'bottle': ('bottle', 'plastic bottle', 'wine bottle'),
    'bus': ('bus', 'coach', 'minibus'),
    'car': ('car', 'van', 'taxi'),
    'cat': ('cat', 'kitten'),
    'chair': ('chair', 'armchair', 'stool with a back'),
    'cow': ('cow', 'calf', 'cattle'),
    'diningtable': ('dining table', 'kitchen table', 'table for eating at'),
    'dog': ('dog', 'puppy'),
    'horse': ('horse', 'pony', 'donkey'),
    'motorbike': ('motorbike', 'motorcycle', 'scooter', 'moped'),
    'person': ('person', 'people', 'child', 'face'),
    'pottedplant': ('potted plant', 'plant in a pot', 'flower pot'),
    'sheep': ('sheep', 'lamb'),
    'sofa': ('sofa', 'couch'),
    'train': ('train', 'locomotive', 'train carriage'),
    'tvmonitor': ('tv monitor', 'television', 'computer monitor', 'screen'),
}

CITYSCAPES_CONCEPTS = {
    'road': ('road', 'street', 'parking area'),
    'sidewalk': ('sidewalk', 'footpath', 'kerb'),
    'building': ('building', 'house', 'garage', 'scaffolding'),
    'wall': ('wall', 'free-standing wall'),
    'fence': ('fence', 'railing'),
    'pole': ('pole', 'lamp post', 'sign pole'),
    'traffic light': ('traffic light', 'signal lamp'),
    'traffic sign': ('traffic sign', 'road sign', 'direction sign'),
    'vegetation': ('vegetation', 'tree', 'hedge', 'bush'),
    'terrain': ('terrain', 'grass', 'soil', 'sand'),
    'sky': ('sky', 'clouds'),
    'person': ('person', 'pedestrian', 'people sitting'),
    'rider': ('rider', 'cyclist', 'motorcyclist'),
    'car': ('car', 'van', 'jeep'),
    'truck': ('truck', 'lorry', 'pickup truck'),
    'bus': ('bus', 'coach'),
    'train': ('train', 'tram'),
    'motorcycle': ('motorcycle', 'moped', 'scooter'),
    'bicycle': ('bicycle', 'bike'),
}
# yapf: enable
