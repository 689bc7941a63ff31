"""Pick the compute device once: CUDA when asked for (or ``auto``) and present, else CPU."""

from __future__ import annotations

import logging
from functools import cache
from typing import Literal

logger = logging.getLogger(__name__)

Device = Literal["cpu", "cuda"]


@cache
def cuda_available() -> bool:
    """True when a CUDA GPU is visible to this process (torch is the bundle's probe)."""
    try:
        import torch
    except ImportError:  # torch is a dependency, but a broken install must not stop CPU training
        return False
    return bool(torch.cuda.is_available())


_warned: set[str] = set()


def resolve_device(requested: str, component: str) -> Device:
    """Map ``auto`` / ``cuda`` / ``cpu`` to the device that will really be used.

    A ``cuda`` request without a GPU falls back to CPU with a single warning per component,
    not one per training window.
    """
    if requested not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {requested!r}")
    if requested == "cpu":
        return "cpu"
    if cuda_available():
        return "cuda"
    if requested == "cuda" and component not in _warned:
        _warned.add(component)
        logger.warning("%s: device 'cuda' requested but no CUDA GPU found; using CPU.", component)
    return "cpu"


def note_fallback(component: str, reason: str) -> None:
    """Log, once per component, that a GPU path failed at run time and CPU took over."""
    key = f"{component}:runtime"
    if key not in _warned:
        _warned.add(key)
        logger.warning("%s: GPU training failed (%s); falling back to CPU.", component, reason)
