"""The survey flown: points in GPS time order, block after block of pulses,
and the pilot flight that sets the pulse density for a target point count.
"""

from __future__ import annotations

from typing import Dict, Iterator

import numpy as np

from .constants import BLOCK_PULSES, SIZE
from .flight import _line_pulses, _Plan, _plan_flight
from .returns import _returns
from .scene import _Scene


def _calibrate_pulse_area(scene: _Scene, points: int, seed: int) -> float:
    """Pulse footprint area giving about ``points`` points: fly a sparse pilot
    survey and scale (points grow as 1 / area)."""
    pilot_area = 1.4 * SIZE * SIZE / 40_000
    plan = _plan_flight(scene, pilot_area)
    counted = sum(c["x"].size for c in _acquire(scene, plan, seed, stream_id=1, points_only=True))
    return pilot_area * counted / points



def _acquire(
    scene: _Scene, plan: _Plan, seed: int, stream_id: int, points_only: bool = False
) -> Iterator[Dict[str, np.ndarray]]:
    """Points, in GPS time order, block after block of pulses."""
    for line in plan.lines:
        for block, first in enumerate(range(0, line.pulses, BLOCK_PULSES)):
            rng = np.random.default_rng([seed, stream_id, line.number, block])
            last = min(line.pulses, first + BLOCK_PULSES)
            pulses = _line_pulses(scene, plan, line, first, last)
            if pulses["x"].size:
                chunk = _returns(scene, plan, pulses, rng, points_only)
                if chunk["x"].size:
                    yield chunk
