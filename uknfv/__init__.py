"""uknfv: compile Click pipelines into specialised network functions."""

__version__ = "0.1.0"
