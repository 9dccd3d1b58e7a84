"""Data to a better model: fine-tuning on the HF Trainer (``trainer``) with its checked config
(``config``), evaluation and prediction (``evaluation``) with the field's metrics (``metrics``).
Datasets and manifests live in :mod:`shotscope.data`."""
