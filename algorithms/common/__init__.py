"""What every layer of a job uses, and nothing of the octree or the format.

    errors.py      one exception root with narrow subclasses, messages for people
    options.py     BuildOptions as plain data, the one default per setting, parsers
    progress.py    stage events to an observer, the cancel poll
    threads.py     thread counts for numba and lazrs
    timing.py      wall-clock time per step (the benchmark's profile)
    temp_files.py  temporary names of files not yet final, and their clean-up
    proj_data.py   PROJ's data found for pyproj when pyproj cannot find it (run on importing algorithms)
"""
