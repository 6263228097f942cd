"""Running the built-in models on something other than eager torch (onnxruntime, the ``[onnx]``
extra): export, a cache of exported models, and callables that stand in for the torch modules."""

from .onnx import ONNX_HINT, OnnxModule, export_detector, export_recognizer, export_script_identifier, onnx_module

__all__ = ["ONNX_HINT", "OnnxModule", "onnx_module", "export_detector", "export_recognizer", "export_script_identifier"]
