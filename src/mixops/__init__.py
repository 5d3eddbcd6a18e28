"""mixops: config-as-code for Mixpeek taxonomies, retrievers and clusters."""

__version__ = "0.1.0"

__all__ = ["__version__"]
