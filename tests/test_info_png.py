"""info --png: the picture's pixels show the data (colours where points are,
background where there are none, height/RGB where they should be), and the
bars have one bar per level."""
from __future__ import annotations

import sys

import laspy
import numpy as np
import pytest

pytest.importorskip("matplotlib")
from matplotlib.image import imread  # noqa: E402

from copc_builder import build_copc  # noqa: E402
from copc_builder.algorithms.api import DependencyError, copc_info, draw_info_png  # noqa: E402
from hostile_helpers import run_cli  # noqa: E402


def two_blocks(path, n=40_000, rgb=False):
    """Two 100 m squares 100 m apart along x: the left one low (z 0-10), the
    right one high (z 90-100); with rgb, the left red and the right blue."""
    rng = np.random.default_rng(7)
    header = laspy.LasHeader(point_format=7 if rgb else 6, version="1.4")
    header.scales = np.array([0.01] * 3)
    header.offsets = np.array([1000.0, 2000.0, 0.0])
    las = laspy.LasData(header)
    right = np.arange(n) >= n // 2
    las.x = 1000.0 + rng.uniform(0, 100, n) + 200.0 * right
    las.y = 2000.0 + rng.uniform(0, 100, n)
    las.z = rng.uniform(0, 10, n) + 90.0 * right
    las.classification = np.full(n, 2, np.uint8)
    las.gps_time = np.sort(rng.uniform(0, 100, n))
    if rgb:
        las.red = np.where(right, 0, 60000)
        las.green = np.zeros(n, np.uint16)
        las.blue = np.where(right, 60000, 0)
    las.write(str(path))
    return path


def map_pixels(png, picture):
    image = imread(str(png))[..., :3]
    left, top, right, bottom = picture.map_box
    return image[top + 2:bottom - 2, left + 2:right - 2]


def is_background(pixels):
    return np.all(pixels > 0.97, axis=-1)


def thirds(pixels):
    """The map's left block, the gap between the blocks, and its right block."""
    w = pixels.shape[1]
    return pixels[:, : int(w * 0.3)], pixels[:, int(w * 0.4): int(w * 0.6)], pixels[:, int(w * 0.7):]


def test_height_picture(tmp_path):
    out = tmp_path / "h.copc.laz"
    build_copc(str(two_blocks(tmp_path / "h.laz")), out)
    png = tmp_path / "h.png"
    picture = draw_info_png(copc_info(out), png)
    assert picture.colour_by == "height" and picture.points > 10_000
    pixels = map_pixels(png, picture)
    low, gap, high = thirds(pixels)
    assert is_background(gap).mean() > 0.99                       # nothing between the blocks
    for block in (low, high):
        assert is_background(block).mean() < 0.5                   # points cover the blocks
        drawn = block[~is_background(block)]
        assert len(np.unique(np.round(drawn, 2), axis=0)) > 20    # many colours: heights vary
    # viridis: low is blue-purple, high is yellow.
    low_rgb, high_rgb = (b[~is_background(b)].mean(axis=0) for b in (low, high))
    assert low_rgb[2] > low_rgb[0] and high_rgb[0] > high_rgb[2] + 0.3


def test_rgb_picture_and_bars(tmp_path):
    out = tmp_path / "c.copc.laz"
    build_copc(str(two_blocks(tmp_path / "c.laz", rgb=True)), out)
    png = tmp_path / "c.png"
    info = copc_info(out)
    picture = draw_info_png(info, png)
    assert picture.colour_by == "rgb"
    low, gap, high = thirds(map_pixels(png, picture))
    red, blue = low[~is_background(low)].mean(axis=0), high[~is_background(high)].mean(axis=0)
    assert red[0] > 0.8 and red[2] < 0.2 and blue[2] > 0.8 and blue[0] < 0.2
    assert is_background(gap).mean() > 0.99


def test_real_file_by_class_on_the_command_line(shared_data, tmp_path):
    out = tmp_path / "lake.copc.laz"
    build_copc(str(shared_data / "lastools_lake.laz"), out)
    png = tmp_path / "lake.png"
    r = run_cli("info", out, "--png", png)
    assert r.returncode == 0, r.stderr
    assert "coloured by class" in r.stdout and png.stat().st_size > 10_000
    image = imread(str(png))
    assert image.shape[1] == 1200 and image.shape[0] == 700
    # The map (left 60 %) holds many colours; the figure's margins are white.
    drawn = image[80:620, 80:680, :3]
    assert len(np.unique(np.round(drawn.reshape(-1, 3), 2), axis=0)) > 5
    assert (~is_background(drawn)).mean() > 0.2
    assert is_background(image[:5, :, :3]).all()


def test_other_writers_copc_by_height(shared_data, tmp_path):
    png = tmp_path / "lone.png"
    picture = draw_info_png(copc_info(shared_data / "pdal_copc_lone-star.copc.laz"), png)
    pixels = map_pixels(png, picture)
    drawn = ~is_background(pixels)
    assert 0.1 < drawn.mean() < 0.95                  # the survey, with its holes
    assert len(np.unique(np.round(pixels[drawn], 2), axis=0)) > 50


def test_not_copc_and_missing_matplotlib(tmp_path, monkeypatch, shared_data):
    with pytest.raises(Exception, match="not a COPC file"):
        draw_info_png(copc_info(shared_data / "lastools_test.laz"), tmp_path / "x.png")
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(DependencyError, match="needs matplotlib"):
        draw_info_png(copc_info(shared_data / "laspy_simple.copc.laz"), tmp_path / "y.png")
    assert not (tmp_path / "y.png").exists()
