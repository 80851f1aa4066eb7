"""Curricula ("kits") as validated YAML data files.

A kit is loaded and validated here, outside the core, and handed to the core
as a frozen :class:`kits.schema.Kit`.
"""

from kits.loader import KitError, builtin_kits, kit_files, load_kit, load_kits

__all__ = ["KitError", "builtin_kits", "kit_files", "load_kit", "load_kits"]
