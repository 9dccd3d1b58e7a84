"""Many films: each into its own folder, resumable and sharded (``batch``), one film's job as every
runner does it (``jobs``), the run's records (``records``), films as tasks on a Ray cluster
(``distributed``)."""
