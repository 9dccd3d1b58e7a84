"""One film: its decoding pass (``film``), the frames of the shot being decoded (``shot_frames``),
the labelling of each shot as it ends (``labelling``), what an analysis is made of (``results``)
and the film's statistics (``statistics``)."""
