"""Video in: decoding (``decode``), cut detection fed by the same pass (``cuts``), and the frames
a model sees (``sampling``)."""
