# DIAGNOSTIC, reads labels: the transform that captions a CamVid training
# crop from its own label map after the crop and flip ('oracle-regions':
# classes per 3x3 cell and counts of small objects; the words of the
# caption file that val and test read). Configs put `oracle_caption` in
# their train pipelines.
oracle_caption = dict(
    type='OracleCaptionFromLabel',
    class_names=('sky', 'building', 'pole', 'road', 'pavement', 'tree',
                 'signsymbol', 'fence', 'car', 'pedestrian', 'bicyclist'),
    variant='oracle-regions')
