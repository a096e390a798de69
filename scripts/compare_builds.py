"""Do two revisions build the same bytes?  Builds every readable LAS/LAZ file of
a data folder (default ../shared/data) and the built-in sample scene with the
code of REV and with the working tree, and compares the outputs' SHA-256.

    python scripts/compare_builds.py [--base REV] [--data DIR] [--points N] [--budget SIZE]

Each side runs in its own Python process, with its own tree first on the
path (a temporary git worktree for REV), so neither imports the other's code.
Exit status 0 when every output is identical, 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Runs inside each side's process: build every input, print {name: sha256 or error}.
_BUILD_ALL = r"""
import hashlib, json, os, sys, tempfile
from copc_builder import build_copc
inputs, budget, points = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
out = {}
with tempfile.TemporaryDirectory() as tmp:
    if points:
        try:
            from copc_builder.demo import write_sample_scene
        except ImportError:
            from copc_builder.demo import write_sample_scene
        scene = os.path.join(tmp, "scene.las")
        write_sample_scene(scene, points=points)
        inputs = [scene] + inputs
    for path in inputs:
        target = os.path.join(tmp, "out.copc.laz")
        try:
            build_copc([path], target, memory_budget=budget)
            with open(target, "rb") as f:
                out[os.path.basename(path)] = hashlib.sha256(f.read()).hexdigest()
            os.remove(target)
        except Exception as exc:
            out[os.path.basename(path)] = f"error: {type(exc).__name__}: {exc}"
print(json.dumps(out))
"""


def build_side(tree: Path, inputs, budget: str, points: int) -> dict:
    with tempfile.TemporaryDirectory() as link_dir:
        os.symlink(tree, os.path.join(link_dir, "copc_builder"))
        env = dict(os.environ, PYTHONPATH=link_dir)
        run = subprocess.run([sys.executable, "-c", _BUILD_ALL, json.dumps(inputs), budget, str(points)],
                             capture_output=True, text=True, env=env, cwd=link_dir)
    if run.returncode != 0:
        sys.exit(f"build with {tree} failed:\n{run.stderr}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="HEAD", help="revision to compare with (default HEAD)")
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--points", type=int, default=1_000_000, help="sample-scene points (0: none)")
    ap.add_argument("--budget", default="2G", help="memory budget of every build")
    args = ap.parse_args()
    inputs = sorted(str(p.resolve()) for p in Path(args.data).glob("*") if p.suffix.lower() in (".las", ".laz"))
    with tempfile.TemporaryDirectory() as tmp:
        base_tree = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "-q", "--detach", str(base_tree), args.base],
                       check=True)
        try:
            before = build_side(base_tree, inputs, args.budget, args.points)
        finally:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(base_tree)], check=True)
    after = build_side(REPO, inputs, args.budget, args.points)
    differ = [name for name in before if before[name] != after.get(name)]
    built = sum(1 for v in before.values() if not v.startswith("error"))
    for name in differ:
        print(f"DIFFERS {name}: {before[name]} -> {after.get(name)}")
    print(f"{len(before)} inputs ({built} built, {len(before) - built} refused by both or either), "
          f"{len(before) - len(differ)} identical, {len(differ)} differ (base {args.base}, budget {args.budget})")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
