"""The package version, in a module of its own: every module may import it without
importing the package that imports them (``from .version import __version__``)."""

__version__ = "0.1.0"
