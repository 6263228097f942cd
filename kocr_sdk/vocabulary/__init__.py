"""kocr's shared vocabulary: the scripts words are written in, the entity labels NER gives, the
languages templates name, and the character sets that define what a script or a charset covers.

Both the product (the engine, NER, templates, redaction) and the lab (the data generator, the
trainers, the evaluation harness) speak it; it lives here, below both, so that neither has to
import the other for a name.
"""

from .entities import FORM_LABELS, LABELS, TAGS
from .languages import LANGUAGES
from .scripts import SCRIPTS, script_of

__all__ = ["FORM_LABELS", "LABELS", "TAGS", "LANGUAGES", "SCRIPTS", "script_of"]
