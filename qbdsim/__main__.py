"""``python -m qbdsim serve ...``."""

from qbdsim.cli import sim_cli

if __name__ == "__main__":
    sim_cli(prog_name="python -m qbdsim")
