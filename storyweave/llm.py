"""A minimal client for OpenAI-compatible chat-completion endpoints.

Optional, and only used where a user configures one (``STORYWEAVE_LLM_*``): everything else in
storyweave works offline. The protocol is the one OpenAI, vLLM, llama.cpp's server, Ollama and
most hosted gateways speak: ``POST {base_url}/chat/completions`` with a JSON body ``{"model",
"messages", "temperature"}``, answered by ``{"choices": [{"message": {"content": ...}}]}``.

Written on the standard library (``urllib.request``) rather than an HTTP package: one POST per
story summary does not justify a dependency. Every failure (HTTP status, network, timeout, a body
that is not a completion) becomes :class:`LLMError`, whose message never contains the API key.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

__all__ = ["ChatClient", "LLMError"]

# Characters of an error response body quoted in LLMError: enough for the server's reason.
ERROR_BODY_CHARS = 300


class LLMError(RuntimeError):
    """The model could not be asked, or its answer could not be read."""


class ChatClient:
    """Sends chat messages to one model of an OpenAI-compatible server and returns its reply."""

    def __init__(self, base_url: str, model: str, api_key: str = "", timeout: float = 60) -> None:
        if urlsplit(base_url).scheme not in ("http", "https"):
            raise ValueError(f"LLM base URL must start with http:// or https://, not {base_url!r}")
        if not model:
            raise ValueError("an LLM model name is required")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout = timeout
        self._api_key = api_key

    @classmethod
    def from_settings(cls, base_url: str, model: str, api_key: str) -> ChatClient | None:
        """The configured client, or None when no base URL is set (the offline default)."""
        return cls(base_url, model, api_key) if base_url else None

    def __repr__(self) -> str:
        return f"ChatClient({self.base_url!r}, model={self.model!r}, api_key={'***' if self._api_key else ''!r})"

    def complete(self, messages: list[dict[str, str]], *, temperature: float = 0.0) -> str:
        """The content of the model's first choice; LLMError on any failure."""
        url = f"{self.base_url}/chat/completions"
        body = json.dumps({"model": self.model, "messages": messages, "temperature": temperature}).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:ERROR_BODY_CHARS].decode("utf-8", "replace")
            raise LLMError(self._redact(f"{url}: HTTP {exc.code} {exc.reason}: {detail}")) from None
        except TimeoutError:
            raise LLMError(f"{url}: no answer within {self.timeout:g} s") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise LLMError(f"{url}: no answer within {self.timeout:g} s") from None
            raise LLMError(self._redact(f"{url}: cannot connect: {exc.reason}")) from None
        except (OSError, http.client.HTTPException) as exc:  # connection reset or cut mid-answer
            raise LLMError(self._redact(f"{url}: {exc}")) from None
        return self._content(url, raw)

    def _content(self, url: str, raw: bytes) -> str:
        try:
            data: Any = json.loads(raw)
            content = data["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            snippet = raw[:ERROR_BODY_CHARS].decode("utf-8", "replace")
            raise LLMError(self._redact(f"{url}: not a chat completion: {snippet!r}")) from None
        if not isinstance(content, str):
            raise LLMError(f"{url}: the completion has no text content")
        return content

    def _redact(self, message: str) -> str:
        """The message without the API key, in case a server echoes the request back."""
        return message.replace(self._api_key, "***") if self._api_key else message
