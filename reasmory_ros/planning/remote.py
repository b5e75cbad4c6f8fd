"""A planner that asks any OpenAI-compatible `/v1/chat/completions` endpoint (standard library only).

Transient failures (HTTP 5xx, 429, timeouts, refused connections) are retried a bounded number of
times with exponential backoff; a 4xx is the caller's mistake (bad key, unknown model) and fails at
once with the server's message. The API key is read from an environment variable named in the
config, so it never sits in a parameter file.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from reasmory_ros.planning.base import PlanningError, PlanRequest
from reasmory_ros.planning.prompting import build_messages


@dataclass(frozen=True)
class RemoteConfig:
    """Where and how to ask. `base_url` ends before `/chat/completions` (e.g. http://host:8000/v1)."""

    base_url: str
    model: str
    api_key_env: str | None = "OPENAI_API_KEY"
    timeout_s: float = 30.0
    max_retries: int = 3
    backoff_s: float = 0.5
    temperature: float = 0.0
    max_tokens: int = 400


_FENCE = re.compile(r"```(?:[a-zA-Z]*)\n?(.*?)```", re.DOTALL)


def extract_program(content: str) -> str:
    """The program inside a reply: the first fenced block when there is one, else the whole text."""
    fenced = _FENCE.search(content)
    return (fenced.group(1) if fenced else content).strip()


class RemotePlanner:
    """Plans by chat completion on an OpenAI-compatible server."""

    name = "remote"

    def __init__(self, config: RemoteConfig):
        self.config = config

    def plan(self, request: PlanRequest) -> str:
        body = {
            "model": self.config.model,
            "messages": build_messages(request),
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
        }
        reply = self._post(body)
        try:
            content = reply["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as err:
            raise PlanningError(f"the endpoint's reply has no choices[0].message.content: {str(reply)[:200]}") from err
        return extract_program(content or "")

    def _post(self, body: dict) -> dict:
        url = self.config.base_url.rstrip("/") + "/chat/completions"
        headers = {"Content-Type": "application/json"}
        if self.config.api_key_env and os.environ.get(self.config.api_key_env):
            headers["Authorization"] = f"Bearer {os.environ[self.config.api_key_env]}"
        data = json.dumps(body).encode()
        last_error = ""
        for attempt in range(self.config.max_retries + 1):
            if attempt:
                time.sleep(self.config.backoff_s * 2 ** (attempt - 1))
            request = urllib.request.Request(url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.config.timeout_s) as response:
                    return json.loads(response.read().decode())
            except urllib.error.HTTPError as err:
                detail = err.read().decode(errors="replace")[:300]
                if err.code == 429 or err.code >= 500:
                    last_error = f"HTTP {err.code}: {detail}"
                    continue
                raise PlanningError(f"{url} refused the request with HTTP {err.code}: {detail}") from err
            except TimeoutError as err:
                last_error = f"no reply within {self.config.timeout_s:g} s ({err})"
            except urllib.error.URLError as err:
                if isinstance(err.reason, (TimeoutError, socket.timeout)):
                    last_error = f"no reply within {self.config.timeout_s:g} s"
                else:
                    last_error = f"cannot reach {url}: {err.reason}"
            except json.JSONDecodeError as err:
                raise PlanningError(f"{url} answered with something that is not JSON: {err}") from err
        raise PlanningError(f"{url} failed after {self.config.max_retries + 1} tries; last error: {last_error}")
