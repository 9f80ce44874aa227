"""One key per model across providers: the raw names from issue 21 and from each provider's fake."""

from __future__ import annotations

import pytest

from grafient_tui.model_keys import model_key

CASES = [
    # the same Claude Sonnet 4.5 under every provider's name
    ("claude-4.5-sonnet", "claude-sonnet-4.5"),  # Cursor
    ("claude-sonnet-4-5", "claude-sonnet-4.5"),  # Anthropic
    ("claude-sonnet-4-5-20250929", "claude-sonnet-4.5"),  # Anthropic, dated
    ("anthropic/claude-sonnet-4.5", "claude-sonnet-4.5"),  # OpenRouter
    ("anthropic/claude-4.5-sonnet-20250929", "claude-sonnet-4.5"),  # OpenRouter's permaslug
    ("Claude Sonnet 4.5 (Vertex AI Model Garden)", "claude-sonnet-4.5"),  # Google's billing export
    ("Auto: Claude Sonnet 4.6", "claude-sonnet-4.6"),  # GitHub Copilot's auto mode
    ("Claude Sonnet 4.6", "claude-sonnet-4.6"),
    ("claude-4-sonnet-thinking", "claude-sonnet-4"),  # Cursor's thinking mode is the same model
    ("claude-4.1-opus", "claude-opus-4.1"),
    ("claude-opus-4-1", "claude-opus-4.1"),
    ("claude-haiku-4-5", "claude-haiku-4.5"),
    ("Claude Haiku 4.5", "claude-haiku-4.5"),
    ("claude-3-5-sonnet-20241022", "claude-sonnet-3.5"),
    # OpenAI's under OpenAI, OpenRouter, Cursor and GitHub
    ("gpt-5-2025-08-07", "gpt-5"),
    ("openai/gpt-5", "gpt-5"),
    ("gpt-5", "gpt-5"),
    ("gpt-5-mini-2025-08-07", "gpt-5-mini"),
    ("GPT-5 mini", "gpt-5-mini"),
    ("o3-2025-04-16", "o3"),
    ("o3", "o3"),
    # Google's and xAI's
    ("google/gemini-2.5-flash", "gemini-2.5-flash"),
    ("gemini-2.5-flash", "gemini-2.5-flash"),
    ("gemini-2-5-flash", "gemini-2.5-flash"),
    ("x-ai/grok-4-fast", "grok-4-fast"),
    ("Chat grok-code-fast-1", "grok-code-fast-1"),
    ("grok-code-fast-1", "grok-code-fast-1"),
    # names no rule reads stay themselves (lower case, vendor prefix dropped)
    ("meta-llama/llama-3.3-70b-instruct", "llama-3.3-70b-instruct"),
    ("text-embedding-3-large", "text-embedding-3-large"),
    ("Web search tool calls", "web-search-tool-calls"),
    ("eleven_multilingual_v2", "eleven_multilingual_v2"),
    ("default", "default"),
    ("vscode/1.107.0/copilot-chat/0.35.1", "vscode/1.107.0/copilot-chat/0.35.1"),  # not a vendor prefix
]


@pytest.mark.parametrize(("raw", "key"), CASES)
def test_each_raw_name_has_its_key(raw: str, key: str) -> None:
    assert model_key(raw) == key


def test_a_key_is_its_own_key() -> None:
    for _, key in CASES:
        assert model_key(key) == key


def test_different_models_keep_different_keys() -> None:
    keys = {model_key(n) for n in ("claude-sonnet-4-5", "claude-sonnet-4-6", "claude-opus-4-5", "gpt-5", "gpt-5-mini")}
    assert len(keys) == 5
