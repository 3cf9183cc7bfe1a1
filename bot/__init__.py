"""Agent Orchestra: the bot — settings, forge client, models, agents, planner, workers, CLI."""

__version__ = "0.1.0"
