"""The model: frames to model input (``preprocessing``), the two-head VideoMAE (``modeling``),
finding and loading checkpoints (``loading``), running it on clips (``inference``), the transformers
pipeline (``pipeline``) and the model card written with every saved model (``card``)."""
