"""Training loops for kocr's models (``kocr train ...``): resumable, seeded, CPU or CUDA."""
