"""pfocr-rdf: Pathway Figure OCR records to validated linked data."""

__version__ = "0.2.0"
