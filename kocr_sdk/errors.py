"""The errors kocr raises on purpose.

Every failure a user can act on is a :class:`KocrError` subclass with a message that says what
went wrong and what to do about it. The CLI prints that message on one line and exits non-zero;
anything that is *not* a ``KocrError`` is a bug in kocr or in a plugin.
"""

from __future__ import annotations


class KocrError(Exception):
    """Base class of every error kocr raises deliberately."""


class KocrInputError(KocrError):
    """An input cannot be read as a page image (missing, not an image, corrupt, too large...)."""


class KocrConfigError(KocrError):
    """A configuration value is invalid or names something that is not installed."""


class KocrPluginError(KocrError):
    """A plugin failed to load or registered something malformed."""


class KocrPluginConflict(KocrPluginError):
    """Two plugins registered the same name for the same stage."""


class KocrTemplateError(KocrError):
    """A YAML form template is malformed; the message names the file, the line and the field."""


class KocrModelError(KocrError):
    """Model weights are missing, corrupt, or do not fit the architecture that loads them."""


class KocrStageError(KocrError):
    """A pipeline stage failed on a page; the message names the stage and its implementation."""


class KocrDataError(KocrError):
    """An evaluation file (ground truth, predictions, or a dataset to convert) is malformed.

    The message names the file and line (or the file and entry) so the user can fix the data.
    """
