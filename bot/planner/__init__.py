"""The planner: repo map, plan schema, planning agent, forge writes, dispatch, continuous planning, commands."""
