"""The single-file build as named stages: scan, read, tree, finish.

    builder.py        Build: the stages in order, the summary, clean-up on any end
    plan.py           the plan from the inputs' headers (frame, CRS, layout, cube)
    reproject_plan.py --t-srs: each input's reprojection, its facts and the scale in the target CRS
    memory_budget.py  how the memory budget is shared among the stages
    build_stages.py   the stages: scan, read (points to columns, exact bounds, buckets),
                      tree, finish
    distribution.py   points into the node store's buckets; units planned
    tree.py           TreeBuilder: units built one by one, then the levels above
    octree_unit.py    one unit in memory: split, canonical order, LOD sampling
    big_node.py       nodes too large for one unit, split in pieces
"""
