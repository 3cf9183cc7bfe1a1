"""The prompt templates, one Markdown/Jinja file per role; rendered by `bot.prompting.render_prompt`."""
