"""Training bundles: one folder that carries a run to a GPU machine with no network (``kocr train bundle``).

:mod:`.pack` writes it; :mod:`.run` is the launcher copied into it; :mod:`.fonts` and
:mod:`.wheels` choose and shrink what it carries. docs/training.md says what to copy and run.
"""
