"""Text detection (STD): models that find words and their characters on a page.

One folder per architecture, each holding its network, its training targets and its decoding
beside each other (docTR style): ``anchor_free/`` is the TO-BE detector of DESIGN.md. The
``TextDetector`` stages that wrap them for the engine live in :mod:`.detector`. ``craft/`` is the
AS-IS baseline it is compared with (CRAFT-style heatmaps; its stage is ``craft/stage.py``), and
:mod:`.families` tells the trainer which network, targets, loss and decoding an ``arch`` uses.
"""
