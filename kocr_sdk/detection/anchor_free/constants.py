"""The anchor-free detector's fixed numbers, apart from its torch network so that decoding and
page preparation (which the onnx runtime runs without torch) can import them."""

STRIDE = 4  # the output maps' stride: one cell per 4×4 input pixels
PAD_VALUE = 255  # pages are padded with white to a multiple of 32 (the deepest stride)
