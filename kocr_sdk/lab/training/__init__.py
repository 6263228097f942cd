"""Training loops for kocr's models (``kocr train ...``): resumable, seeded, CPU or CUDA.

One loop (:class:`~.base.Trainer`, configured by :class:`~.base.RunConfig`) runs every model; each
trainer module adds its model, data stream, loss, validation and export.
"""
