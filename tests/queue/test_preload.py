"""The model SDKs take seconds of CPU to import: they load where a model of theirs is built, and an RQ
worker imports before its first fork only the SDKs its settings' models use."""

from __future__ import annotations

import subprocess
import sys

from bot import jobs


def test_a_worker_of_scripted_models_preloads_no_sdk() -> None:
    modules = jobs.preload_for(["scripted:demo", "scripted:bench"])
    assert "bot.llm.factory" in modules and "github" in modules
    assert not set(modules) & {"bot.llm.anthropic_provider", "bot.llm.openai_provider", "bot.llm.openai_responses"}


def test_each_provider_named_brings_its_own_sdk_only() -> None:
    anthropic_only = jobs.preload_for(["anthropic:claude-sonnet-5-5", "scripted:demo"])
    assert "bot.llm.anthropic_provider" in anthropic_only and "bot.llm.openai_provider" not in anthropic_only
    compatible = jobs.preload_for(["openai-compatible:qwen@http://127.0.0.1:1/v1"])
    assert {"bot.llm.openai_provider", "bot.llm.openai_responses"} <= set(compatible)
    assert "bot.llm.anthropic_provider" not in compatible
    assert jobs.preload_for(["openai-responses:gpt-6.1-sol", "anthropic:claude-opus-5-5"]) == jobs.PRELOAD


def test_the_command_line_and_a_scripted_model_import_no_sdk() -> None:
    probe = (
        "import sys\n"
        "from bot.cli import build_parser\n"
        "from bot.llm.factory import make_model\n"
        "from bot.modes import demo\n"
        "build_parser()\n"
        "make_model('scripted:demo', scripts=demo.SCRIPTS)\n"
        "print(sorted(m for m in ('anthropic', 'openai') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"
