"""Synthetic street-number scenes close to SVHN, with per-digit boxes (see :mod:`svhnx.synth.generator`)."""

from svhnx.synth.atlas import GlyphAtlas, build_atlas, load_atlas
from svhnx.synth.generator import CropBatch, Realism, SceneBatch, SceneGenerator
from svhnx.synth.layouts import LayoutTables, load_layout_tables

__all__ = [
    "CropBatch",
    "GlyphAtlas",
    "LayoutTables",
    "Realism",
    "SceneBatch",
    "SceneGenerator",
    "build_atlas",
    "load_atlas",
    "load_layout_tables",
]
