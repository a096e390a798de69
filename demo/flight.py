"""The flight plan and scan pattern: parallel, alternating flight lines with
side lap, and an oscillating mirror zig-zagging pulses across each strip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List

import numpy as np

from .constants import ALTITUDE, GPS_START, HALF_FOV, HEADING, SIDELAP, SIZE, SPEED, TURN_TIME
from .scene import _Scene


@dataclass
class _Line:
    number: int  # point source id
    centre: float  # cross-track position of the line (along _RIGHT)
    direction: float  # +1 flown along _AHEAD, -1 against it
    u_start: float  # along-track position at its first pulse
    pulses: int
    gps_start: float



@dataclass
class _Plan:
    lines: List[_Line]
    pulses_per_sweep: int
    pulse_rate: float  # Hz
    z_air: float
    half_swath: float



_AHEAD = np.array([math.sin(HEADING), math.cos(HEADING)])
_RIGHT = np.array([math.cos(HEADING), -math.sin(HEADING)])  # right of _AHEAD



def _plan_flight(scene: _Scene, pulse_area: float) -> _Plan:
    """Flight lines over the square, and a scan pattern giving one pulse per
    ``pulse_area`` square metres in each strip."""
    z_air = scene.z_mean + ALTITUDE
    half_swath = ALTITUDE * math.tan(HALF_FOV)
    widest = (z_air - scene.z_min) * math.tan(HALF_FOV)

    pulses_per_sweep = max(2, int(round(2 * half_swath / math.sqrt(pulse_area))))
    across_spacing = 2 * half_swath / pulses_per_sweep
    sweep_time = pulse_area / across_spacing / SPEED  # along-track spacing / speed
    pulse_rate = pulses_per_sweep / sweep_time

    # Line centres across the square's projection, side lap SIDELAP.
    g = np.linspace(0.0, SIZE, 121)
    px, py = (a.ravel() - SIZE / 2 for a in np.meshgrid(g, g))
    u, v = px * _AHEAD[0] + py * _AHEAD[1], px * _RIGHT[0] + py * _RIGHT[1]
    spacing = 2 * half_swath * (1 - SIDELAP)
    count = int(math.ceil((v.max() - v.min() - 2 * half_swath) / spacing)) + 1
    centres = 0.5 * (v.max() + v.min()) + (np.arange(count) - 0.5 * (count - 1)) * spacing

    lines = []
    gps = GPS_START
    for i, c in enumerate(centres):
        band = np.abs(v - c) <= widest + 2.0
        lo, hi = u[band].min() - 3.0, u[band].max() + 3.0
        direction = 1.0 if i % 2 == 0 else -1.0
        pulses = int(math.ceil((hi - lo) / SPEED * pulse_rate)) + 1
        lines.append(_Line(i + 1, float(c), direction, lo if direction > 0 else hi, pulses, gps))
        gps += pulses / pulse_rate + TURN_TIME
    return _Plan(lines, pulses_per_sweep, pulse_rate, z_air, half_swath)



def _line_pulses(scene: _Scene, plan: _Plan, line: _Line, first: int, last: int) -> Dict[str, np.ndarray]:
    """Pulses first..last-1 of a line: a zig-zag across the strip as the
    aircraft moves on; only those landing inside the square are kept."""
    k = np.arange(first, last, dtype=np.int64)
    pps = plan.pulses_per_sweep
    sweep, j = np.divmod(k, pps)
    rising = sweep % 2 == 0  # mirror swinging left to right: positive direction
    frac = (j + 0.5) / pps
    theta = np.where(rising, -HALF_FOV + 2 * HALF_FOV * frac, HALF_FOV - 2 * HALF_FOV * frac)
    t = k / plan.pulse_rate
    along = line.u_start + line.direction * SPEED * t
    right = line.direction * _RIGHT  # right of the aircraft on this line
    bx = SIZE / 2 + along * _AHEAD[0] + line.centre * _RIGHT[0]
    by = SIZE / 2 + along * _AHEAD[1] + line.centre * _RIGHT[1]
    tan = np.tan(theta)
    c = ALTITUDE * tan
    zg = scene.ground(bx + c * right[0], by + c * right[1])
    c = (plan.z_air - zg) * tan  # where the beam meets the terrain, near enough
    x, y = bx + c * right[0], by + c * right[1]
    keep = (x >= 0) & (x < SIZE) & (y >= 0) & (y < SIZE)
    return {
        "x": x[keep],
        "y": y[keep],
        "theta": theta[keep],
        "gps_time": line.gps_start + t[keep],
        "rising": rising[keep],
        "edge": (j == pps - 1)[keep],
        "right": right,
        "line": line,
    }
