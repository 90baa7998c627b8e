"""``python -m converter`` runs the ``pfocr-rdf`` command line."""

from .cli import main

main()
