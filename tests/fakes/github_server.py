"""A local stand-in for GitHub's REST API that checks the contract both ways.

Every request the client sends and every response the server returns is validated against GitHub's
own OpenAPI description (tests/data/github-rest-subset.json, a copy of the shared contract) with
openapi-core. Responses are built from that description's examples, so two known inconsistencies in
GitHub's own examples (see KNOWN_EXAMPLE_VIOLATIONS) are tolerated, and nothing else.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

SPEC_PATH = Path(__file__).resolve().parents[1] / "data" / "github-rest-subset.json"
EVENTS = Path(__file__).resolve().parents[1] / "data" / "events"


def known_example_violation(operation: str, error: Any) -> bool:
    """The two places GitHub's examples break its schema (contracts SOURCE.md); exactly these pass."""
    path = list(error.absolute_path)
    if operation == "checks/create":  # `conclusion: null` against an enum without null
        return path == ["conclusion"] and error.validator == "enum" and error.instance is None
    if operation == "pulls/get":  # requested_teams[0] lacks `type`
        return (
            len(path) == 2
            and path[0] == "requested_teams"
            and error.validator == "required"
            and "'type'" in error.message
        )
    return False


@dataclass
class Fault:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=lambda: {"message": "Server Error"})


@dataclass
class FakeGitHub:
    base_url: str
    prefix: str
    spec: dict[str, Any]
    page_size: int = 100  # the most comments per page, whatever `per_page` asks
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    check_runs: list[dict[str, Any]] = field(default_factory=list)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)  # answered first, one per request
    read_only: bool = False
    issue_events: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)  # login -> role_name; others: "none"
    team_members: dict[str, set[str]] = field(default_factory=dict)  # "org/slug" -> active members
    log: list[str] = field(default_factory=list)  # "METHOD path?query" per request
    violations: list[str] = field(default_factory=list)
    _next_id: int = 1000

    @property
    def api_url(self) -> str:
        return f"{self.base_url}{self.prefix}"

    def add_comment(self, issue: int, body: str, login: str = "someone") -> dict[str, Any]:
        self._next_id += 1
        comment: dict[str, Any] = copy.deepcopy(self.spec["components"]["examples"]["issue-comment"]["value"])
        comment.update(
            id=self._next_id,
            body=body,
            html_url=f"https://github.com/octocat/Hello-World/pull/{issue}#issuecomment-{self._next_id}",
        )
        comment["user"]["login"] = login
        self.comments.setdefault(issue, []).append(comment)
        return comment

    def check_run_annotations(self, number: int) -> list[dict[str, Any]]:
        """The annotations check run `number` (1-based) holds: those of its create, then of each update."""
        return list((self.check_runs[number - 1].get("output") or {}).get("annotations") or [])

    def add_pull(self, number: int, head_sha: str, *, labels: tuple[str, ...] = (), body: str | None = None) -> None:
        pull = copy.deepcopy(self.spec["components"]["examples"]["pull-request"]["value"])
        pull["number"] = number
        pull["head"]["sha"] = head_sha
        if labels or body is not None:
            template = pull["labels"][0]
            pull["labels"] = [{**template, "name": name, "id": 300 + i} for i, name in enumerate(labels)]
            pull["body"] = body
        self.pulls[number] = pull

    def add_label_event(self, issue: int, label: str, login: str, event: str = "labeled") -> None:
        """A `labeled` (or `unlabeled`) event on the issue, by `login`, as issues/list-events lists it."""
        item = copy.deepcopy(self.spec["components"]["examples"]["issue-event-for-issue-items"]["value"][0])
        events = self.issue_events.setdefault(issue, [])
        item.update(id=len(events) + 1, event=event, label={"name": label, "color": "ededed"}, commit_id=None)
        item["commit_url"] = None
        item["actor"]["login"] = login
        events.append(item)


class _App:
    def __init__(self, gh: FakeGitHub, api: OpenAPI) -> None:
        self.gh, self.api = gh, api

    def __call__(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        operation, response = self._handle(request)
        self._validate_response(operation, request, response)
        return response(environ, start_response)

    def _handle(self, request: Request) -> tuple[str, Response]:
        gh = self.gh
        gh.log.append(f"{request.method} {request.full_path.rstrip('?')}")
        try:
            self.api.validate_request(WerkzeugOpenAPIRequest(request))
        except Exception as exc:
            gh.violations.append(f"request {request.method} {request.path}: {_explain(exc)}")
            return "invalid", _json({"message": f"contract violation: {exc}"}, 400)
        if not request.path.startswith((gh.prefix + "/repos/", gh.prefix + "/orgs/")):
            return "unknown", _json({"message": "Not Found"}, 404)
        path = request.path[len(gh.prefix) :]
        operation, params = _route(request.method, path)
        if gh.faults:
            fault = gh.faults.pop(0)
            return operation, _json(fault.body, fault.status, fault.headers)
        if request.method in ("POST", "PATCH") and gh.read_only:
            return operation, _json({"message": "Resource not accessible by integration"}, 403)
        body = request.get_json(silent=True) or {}
        if operation == "issues/list-comments":
            return operation, self._list(request, int(params["number"]))
        if operation == "issues/create-comment":
            return operation, _json(gh.add_comment(int(params["number"]), body["body"], "github-actions[bot]"), 201)
        if operation == "issues/update-comment":
            for comments in gh.comments.values():
                for comment in comments:
                    if comment["id"] == int(params["id"]):
                        comment["body"] = body["body"]
                        return operation, _json(comment, 200)
            return operation, _json({"message": "Not Found"}, 404)
        if operation == "pulls/get":
            number = int(params["number"])
            if number not in gh.pulls:
                return operation, _json({"message": "Not Found"}, 404)
            return operation, _json(gh.pulls[number], 200)
        if operation == "issues/list-events":
            return operation, _json(gh.issue_events.get(int(params["number"]), []), 200)
        if operation == "repos/get-collaborator-permission-level":
            answer = copy.deepcopy(
                gh.spec["components"]["examples"][
                    "repository-collaborator-permission-response-if-user-has-admin-permissions"
                ]["value"]
            )
            role = gh.permissions.get(params["login"], "none")
            legacy = {"maintain": "write", "triage": "read"}.get(role, role)
            answer.update(permission=legacy, role_name=role)
            answer["user"].update(login=params["login"], role_name=role)
            return operation, _json(answer, 200)
        if operation == "teams/get-membership-for-user-in-org":
            if params["login"] not in gh.team_members.get(f"{params['org']}/{params['slug']}", set()):
                return operation, _json({"message": "Not Found"}, 404)
            member = gh.spec["components"]["examples"]["team-membership-response-if-user-is-a-team-maintainer"]
            return operation, _json(member["value"], 200)
        if operation == "checks/create":
            run = copy.deepcopy(
                gh.spec["components"]["examples"]["check-run-example-of-in-progress-conclusion"]["value"]
            )
            run.update(id=len(gh.check_runs) + 1, head_sha=body["head_sha"], name=body["name"])
            gh.check_runs.append(body)
            return operation, _json(run, 201)
        if operation == "checks/update":
            number = int(params["id"])
            if not 1 <= number <= len(gh.check_runs):
                return operation, _json({"message": "Not Found"}, 404)
            stored = gh.check_runs[number - 1]
            output = body.get("output") or {}
            annotations = [*gh.check_run_annotations(number), *(output.get("annotations") or [])]
            stored["output"] = {**stored.get("output", {}), **output, "annotations": annotations}
            run = copy.deepcopy(gh.spec["components"]["examples"]["check-run"]["value"])
            run.update(id=number, head_sha=stored["head_sha"], name=stored["name"])
            return operation, _json(run, 200)
        return operation, _json({"message": "Not Found"}, 404)

    def _list(self, request: Request, issue: int) -> Response:
        gh = self.gh
        per_page = min(int(request.args.get("per_page", 30)), gh.page_size)
        page = int(request.args.get("page", 1))
        everything = gh.comments.get(issue, [])
        chunk = everything[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(everything):
            base = f"{gh.api_url}{request.path[len(gh.prefix) :]}"
            headers["Link"] = f'<{base}?per_page={per_page}&page={page + 1}>; rel="next"'
        return _json(chunk, 200, headers)

    def _validate_response(self, operation: str, request: Request, response: Response) -> None:
        if operation in ("invalid", "unknown") or not _documented(self.gh.spec, request, response.status_code):
            return  # an injected 5xx the description does not list for this operation
        try:
            self.api.validate_response(WerkzeugOpenAPIRequest(request), WerkzeugOpenAPIResponse(response))
        except Exception as exc:
            errors = list(getattr(exc.__cause__, "schema_errors", None) or [])
            if errors and all(known_example_violation(operation, e) for e in errors):
                return
            self.gh.violations.append(f"response {operation} {response.status_code}: {_explain(exc)}")


_ROUTES = [
    ("GET", r"/repos/[^/]+/[^/]+/issues/(?P<number>\d+)/comments", "issues/list-comments"),
    ("POST", r"/repos/[^/]+/[^/]+/issues/(?P<number>\d+)/comments", "issues/create-comment"),
    ("PATCH", r"/repos/[^/]+/[^/]+/issues/comments/(?P<id>\d+)", "issues/update-comment"),
    ("GET", r"/repos/[^/]+/[^/]+/pulls/(?P<number>\d+)", "pulls/get"),
    ("POST", r"/repos/[^/]+/[^/]+/check-runs", "checks/create"),
    ("PATCH", r"/repos/[^/]+/[^/]+/check-runs/(?P<id>\d+)", "checks/update"),
    ("GET", r"/repos/[^/]+/[^/]+/issues/(?P<number>\d+)/events", "issues/list-events"),
    ("GET", r"/repos/[^/]+/[^/]+/collaborators/(?P<login>[^/]+)/permission", "repos/get-collaborator-permission-level"),
    (
        "GET",
        r"/orgs/(?P<org>[^/]+)/teams/(?P<slug>[^/]+)/memberships/(?P<login>[^/]+)",
        "teams/get-membership-for-user-in-org",
    ),
]


def _route(method: str, path: str) -> tuple[str, dict[str, str]]:
    for route_method, pattern, operation in _ROUTES:
        match = re.fullmatch(pattern, path)
        if match and method == route_method:
            return operation, match.groupdict()
    return "unknown", {}


def _documented(spec: dict[str, Any], request: Request, status: int) -> bool:
    for template, item in spec["paths"].items():
        pattern = re.sub(r"\{[^}]+\}", "[^/]+", template)
        if re.search(pattern + "$", request.path) and request.method.lower() in item:
            return str(status) in item[request.method.lower()]["responses"]
    return False


def _json(data: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(data), status=status, headers=headers or {}, content_type="application/json")


def _explain(exc: Exception) -> str:
    errors = getattr(exc.__cause__, "schema_errors", None) or []
    details = "; ".join(f"{list(e.absolute_path)}: {e.message[:150]}" for e in errors)
    return f"{type(exc).__name__}: {str(exc)[:200]} {details}"


def _without_inline_discriminators(node: Any) -> Any:
    """checks/create's body has `discriminator: {propertyName: status}` over inline `oneOf` schemas and no
    `mapping`; OAS 3.0 then reads the value as a schema *name*, which openapi-core fails to resolve
    ("#/components/schemas/completed"). The `oneOf` still holds the rule, so only the hint is dropped."""
    if isinstance(node, dict):
        disc = node.get("discriminator")
        if isinstance(disc, dict) and "mapping" not in disc and all("$ref" not in s for s in node.get("oneOf", [])):
            del node["discriminator"]
        for value in node.values():
            _without_inline_discriminators(value)
    elif isinstance(node, list):
        for value in node:
            _without_inline_discriminators(value)
    return node


_CHECKED_SPECS: set[Path] = set()


def serve(prefix: str = "") -> Iterator[FakeGitHub]:
    """Start the server on 127.0.0.1 (a free port) in a thread; yields its state; stops it after."""
    spec = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    server = make_server("127.0.0.1", 0, lambda e, s: app(e, s), threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    gh = FakeGitHub(base_url=base_url, prefix=prefix, spec=spec)
    contract = _without_inline_discriminators(copy.deepcopy(spec))
    contract["servers"] = [{"url": gh.api_url}]
    # openapi-core checks the description itself against OpenAPI's schema as it loads it (~0.1 s),
    # the same answer every time for the same file (the servers entry aside): the first server of
    # each test process checks it; requests and responses are validated against it every time.
    # (`spec_validator_cls=None` is how openapi-core's check_spec is told to skip; its annotation omits None.)
    config = Config(spec_validator_cls=None) if SPEC_PATH in _CHECKED_SPECS else None  # type: ignore[arg-type]
    app = _App(gh, OpenAPI.from_dict(contract, config=config))
    _CHECKED_SPECS.add(SPEC_PATH)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield gh
    finally:
        server.shutdown()
        thread.join(timeout=5)
