"""Datasets: procedural generators with ground-truth masks, and their on-disk store."""

from common.data import peppers
from common.data.store import DataIntegrityError, ImageSplit, load_manifest, load_split

GENERATORS = {"peppers": peppers}
"""Procedural datasets by name; each module offers ``CLASSES`` and ``generate``."""

__all__ = ["GENERATORS", "DataIntegrityError", "ImageSplit", "load_manifest", "load_split"]
