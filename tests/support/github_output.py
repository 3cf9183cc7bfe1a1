"""How a GitHub runner reads a `$GITHUB_OUTPUT` (or `$GITHUB_ENV`) file, for tests of what we write to one."""

from __future__ import annotations


def parse_github_output(text: str) -> dict[str, str]:
    """The values a runner reads: `name=value` lines, or `name<<DELIMITER`, the value's lines, and a line
    that is exactly DELIMITER (the multi-line form). A later line for the same name wins."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, index)  # ValueError: the runner fails the step on a missing delimiter
            values[name] = "\n".join(lines[index:end])
            index = end + 1
        else:
            name, value = line.split("=", 1)
            values[name] = value
    return values
