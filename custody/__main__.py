"""`python -m custody`: the same command line as the `custody` script.

The one module of the package that is not core: an entry point, handing over to cli.py, the composition root.
"""
from cli import main

main()
