"""`python -m custody`: the same command line as the `custody` script.

The command line is the composition root outside the core (cli.py); the core does not import it by name but runs
the `custody` console script that the package's own metadata declares (pyproject.toml [project.scripts]).
"""
from importlib.metadata import entry_points

(script,) = entry_points(group="console_scripts", name="custody")
script.load()()
