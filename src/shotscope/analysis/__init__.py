"""Analysis: one film in one decoding pass (``film``), movement from geometry (``motion``) and its
fusion with the network (``fusion``), film statistics (``statistics``), and many films: a folder each,
resumable (``batch``), or on a Ray cluster (``distributed``)."""
