"""The ledger: the orchestra's own state as it lives on the forge, written and read back.

"The repository is the coordination layer": everything the bot must remember survives in
places people can see — state labels (`labels`), hidden markers in bodies and comments
(`markers`), the task body format (`taskbody`), a goal's tasks and sub-goals (`goaltree`), the
planner's record in the goal's status comment (`record`), attempt counters and usage in a PR
body (`attempts`), the claim on a task (`claims`), the bot's tagged comments (`comments`) and
failure comments (`failures`). It speaks to the forge through `bot.forge`, which knows GitHub
and nothing of the orchestra.
"""
