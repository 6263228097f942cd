"""Text detection: models that find words and their characters on a page.

One folder per architecture, each holding its network, its training targets and loss, its
decoding and its engine stage beside each other, so replacing an architecture touches one
folder: ``anchor_free/`` is the one-shot detector kocr ships; ``craft/`` is the CRAFT-style
heatmap baseline it is compared with. :mod:`.inference` runs any family's network on a page
(scaling, padding, decoding) and loads weights files; :mod:`.calibration` fits the int8 graph.
"""
