"""RemotePlanner against a local OpenAI-compatible HTTP server on 127.0.0.1.

The server (http.server in a thread, scripted replies) is the only test double of this project:
it stands in for a real chat-completions endpoint, which cannot be reached from here.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from reasmory_ros.planning import PlanningError, PlanRequest, answer_question, context_from_snapshot
from reasmory_ros.planning.remote import RemoteConfig, RemotePlanner, extract_program


class ScriptedServer:
    """Replies from a script of (status, content or None, delay_s); records every request body."""

    def __init__(self, script):
        self.script = list(script)
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                server.headers.append(dict(self.headers))
                status, content, delay = server.script.pop(0) if server.script else (500, None, 0)
                time.sleep(delay)
                payload = (
                    {"choices": [{"message": {"role": "assistant", "content": content}}]}
                    if status == 200 else {"error": {"message": f"scripted {status}"}}
                )
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


GOOD = '```\nchairs = objects("chair")\nanswer(count(chairs))\n```'


def planner_for(server, **overrides) -> RemotePlanner:
    config = dict(base_url=server.base_url, model="tiny", api_key_env="REASMORY_TEST_KEY", timeout_s=2.0,
                  max_retries=2, backoff_s=0.01)
    return RemotePlanner(RemoteConfig(**(config | overrides)))


@pytest.fixture
def request_(snapshot):
    return PlanRequest("How many chairs are there?", None, context_from_snapshot(snapshot))


def test_success_sends_key_and_messages(monkeypatch, request_):
    monkeypatch.setenv("REASMORY_TEST_KEY", "secret")
    with ScriptedServer([(200, GOOD, 0)]) as server:
        program = planner_for(server).plan(request_)
    assert program == 'chairs = objects("chair")\nanswer(count(chairs))'
    assert server.headers[0]["Authorization"] == "Bearer secret"
    body = server.requests[0]
    assert body["model"] == "tiny" and body["messages"][0]["role"] == "system"
    assert "How many chairs are there?" in body["messages"][-1]["content"]


def test_server_error_is_retried(request_):
    with ScriptedServer([(500, None, 0), (503, None, 0), (200, GOOD, 0)]) as server:
        assert "count(chairs)" in planner_for(server).plan(request_)
    assert len(server.requests) == 3


def test_timeout_becomes_an_error_after_bounded_retries(request_):
    with ScriptedServer([(200, GOOD, 1.0)] * 3) as server, \
            pytest.raises(PlanningError, match="failed after 2 tries; last error: no reply within 0.3 s"):
        planner_for(server, timeout_s=0.3, max_retries=1).plan(request_)


def test_client_error_fails_at_once(request_):
    with ScriptedServer([(401, None, 0)]) as server, pytest.raises(PlanningError, match="HTTP 401"):
        planner_for(server).plan(request_)
    assert len(server.requests) == 1


def test_invalid_program_is_repaired_with_the_validator_message(snapshot):
    script = [(200, 'answer(count(objects("piano")))', 0), (200, GOOD, 0)]
    with ScriptedServer(script) as server:
        result = answer_question("How many chairs are there?", None, snapshot, planner=planner_for(server))
    assert result.ok and result.answer == 3 and isinstance(result.answer, int) and result.planner == "remote"
    first, second = result.attempts
    assert first.error and "piano" in first.error and second.error is None
    repair_turn = server.requests[1]["messages"][-1]["content"]
    assert "piano" in repair_turn and "corrected program" in repair_turn


def test_invalid_programs_fall_back_to_rules(snapshot):
    script = [(200, "answer(nonsense(", 0), (200, 'answer(count(objects("piano")))', 0), (200, "x = 1", 0)]
    with ScriptedServer(script) as server:
        result = answer_question("How many chairs are there?", None, snapshot, planner=planner_for(server))
    assert [a.planner for a in result.attempts] == ["remote", "remote", "remote", "rule"]
    assert [a.stage for a in result.attempts[:3]] == ["syntax error", "validation error", "validation error"]
    assert result.ok and result.answer == 3 and result.planner == "rule"


def test_extract_program_takes_the_fenced_block():
    assert extract_program("Here:\n```dsl\nanswer(1)\n```\nDone.") == "answer(1)"
    assert extract_program("answer(1)") == "answer(1)"
