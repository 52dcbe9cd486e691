"""Everything that touches the outside world: arXiv, the model endpoint, the disk, the database."""
