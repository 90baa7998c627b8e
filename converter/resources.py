"""Where the data files live: ``shapes/``, ``ontology/`` and ``queries/``.

In a wheel these folders are installed inside the package (``converter/shapes`` …); in a
source checkout (editable install, tests) they are the top-level folders of the project.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The folder ``name`` (``shapes``, ``ontology`` or ``queries``) of this installation."""
    for candidate in (PACKAGE_DIR / name, PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"pfocr-rdf data folder {name!r} is missing from the installation")


def data_files(name: str, suffix: str) -> list[Path]:
    """The files ending in ``suffix`` in data folder ``name``, sorted by name."""
    return sorted(data_dir(name).glob(f"*{suffix}"))
