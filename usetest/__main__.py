"""``python -m usetest`` runs the command-line interface."""

from usetest.cli import main

main()
