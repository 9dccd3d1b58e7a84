"""The names of the compute precisions and of the backends beside torch that run the network
(their code: :mod:`shotscope.model.backends`); names only, so the command line can offer them
without importing torch."""

from __future__ import annotations

TORCH = ("fp32", "bf16", "fp16")  # torch autocast (fp16 on GPUs)
ONNX = ("onnx-fp32", "onnx-int8")  # ONNX Runtime, on the CPU: shotscope[onnx]
OPENVINO = ("openvino-fp32", "openvino-bf16", "openvino-int8", "openvino-int8-bf16")  # OpenVINO, on the CPU: shotscope[openvino]
BACKENDS = ONNX + OPENVINO
PRECISIONS = ("auto", *TORCH, *BACKENDS)
