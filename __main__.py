"""python -m copc_builder: the same program as the copc-builder command."""
import sys

from copc_builder.plugin.cli import main

sys.exit(main())
