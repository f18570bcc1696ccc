"""Opening a segmentation model with onnxruntime on the CPU, the same way for every model.

A model's bytes become one session shared by all threads (`InferenceSession.run` is thread-safe,
and a second session would only double the memory), checked to take one 1x3xSxS image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ModelLoadError(ValueError):
    """The segmentation model bytes cannot be used (not ONNX, or not the expected model's shape)."""


@dataclass(frozen=True)
class OnnxModel:
    session: Any
    input_name: str
    # The first output: the finest (or fused) map, the one rembg uses; asking only for it
    # lets onnxruntime free the other outputs' buffers early.
    output_name: str


def open_model(
    model_bytes: bytes,
    *,
    side: int,
    threads: int,
    load_failed: str,
    wrong_shape: str,
    low_memory: bool = False,
) -> OnnxModel:
    """The session for a model that takes one 1x3x`side`x`side` image.

    `load_failed` and `wrong_shape` are the user's messages; `{error}` and `{shapes}` are filled
    in. `low_memory` turns off onnxruntime's memory arena and pattern (a large model's peak).
    """
    import onnxruntime as ort  # heavy import, only when a model is actually loaded

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if low_memory:
        options.enable_cpu_mem_arena = False
        options.enable_mem_pattern = False
    # The worker threads spin between the model's operators (fast) and, by default, go on
    # spinning after `run` returns, which took about 15 ms of CPU from the refinement and
    # backdrop work that follows a 1000 px u2netp inference. Stop them when the run ends; the
    # run itself is as fast as before.
    options.add_session_config_entry("session.force_spinning_stop", "1")
    try:
        session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors for bad bytes
        raise ModelLoadError(load_failed.format(error=type(exc).__name__)) from exc
    inputs = session.get_inputs()
    if len(inputs) != 1 or list(inputs[0].shape)[1:] != [3, side, side]:
        raise ModelLoadError(wrong_shape.format(shapes=[i.shape for i in inputs]))
    return OnnxModel(session, inputs[0].name, session.get_outputs()[0].name)
