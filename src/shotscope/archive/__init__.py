"""The archive: every analysed film of an output folder in one SQLite database, searched, summarised
and corrected (``database``); served by :mod:`shotscope.web`."""
