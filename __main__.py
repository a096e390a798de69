"""python -m copc_builder: the same program as the copc-builder command."""
from copc_builder.plugin.cli import run

run()
