"""pfocr-rdf: Pathway Figure OCR records to validated linked data.

In Python: :func:`convert` records in memory (a :class:`Conversion`: a pyoxigraph store or
an rdflib dataset of them, the rejections, the SHACL findings, the counts), then
:func:`query` them with a bundled query or SPARQL.
"""

__version__ = "0.2.0"

from .api import Conversion, convert, query
from .query import QueryError
from .report import Summary
from .store import StoreError

__all__ = ["Conversion", "QueryError", "StoreError", "Summary", "__version__", "convert", "query"]
