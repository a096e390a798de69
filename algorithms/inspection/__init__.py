"""Tools that look at a file or a plan and write nothing: info, compare, picture, dry run.

    info.py          header, CRS, COPC info and levels of a COPC or LAS file
    info_compare.py  two files' infos side by side
    info_picture.py  a PNG of a file's coarse levels and its bytes per level
    dry_run.py       the plan and its estimates from the inputs' headers alone
"""
