"""Label sources: each tells one label of a shot from its frames, with probabilities and its
evidence: camera movement from geometry (``geometry``), the network's combiner with it
(``fusion``), and which source answers each task (``selection``)."""
