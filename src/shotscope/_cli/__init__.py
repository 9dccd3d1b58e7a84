"""The ``shotscope`` command: thin wrappers over the library."""
