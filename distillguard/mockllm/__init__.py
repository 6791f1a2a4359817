"""A deterministic local OpenAI- and Anthropic-compatible LLM server (``distillguard mock-upstream``)."""

from __future__ import annotations

from distillguard.mockllm.app import MockLLM

__all__ = ["MockLLM"]
