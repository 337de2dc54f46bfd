"""The engine's version, in a module of its own so that any layer can read it without importing the
``engine`` facade (which imports the layers above)."""

__version__ = "0.1.0"
