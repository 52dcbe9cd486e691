"""flashnews: the Inference Ecosystem — Flash News bulletin, written from each day's arXiv papers."""

__version__ = "0.1.0"
