"""The gateway's merged OpenAPI document and the 405's Allow, on small apps (no infrastructure)."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from switchboard_gateway.api.openapi_merge import MergedOpenApi, install, merge
from switchboard_runtime.http import errors
from switchboard_runtime.http.openapi import responses


class Thing(BaseModel):
    name: str


def _gateway() -> FastAPI:
    app = FastAPI(title="Gateway", version="1")
    errors.install(app)
    own = APIRouter()

    @own.get("/v1/things/{thing_id}", responses=responses(401, 404, 422))
    async def get_thing(thing_id: str):
        return {"id": thing_id}

    @own.patch("/v1/things/{thing_id}", responses=responses(401, 404, 422))
    async def patch_thing(thing_id: str, body: Thing):
        return {"id": thing_id}

    @own.delete("/v1/things/{thing_id}", status_code=204, responses=responses(401, 404, 422))
    async def delete_thing(thing_id: str):
        return None

    @own.api_route("/v1/widgets", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    @own.api_route("/v1/widgets/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                   include_in_schema=False)
    async def forward():
        return {}

    app.include_router(own)
    return app


UPSTREAM = {
    "openapi": "3.1.0", "info": {"title": "widgets", "version": "1"},
    "paths": {
        "/v1/widgets": {"post": {"operationId": "create", "requestBody": {"content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Thing"}}}}, "responses": {"201": {"description": "ok"}}},
                        "get": {"operationId": "list", "responses": {"200": {"description": "ok"}}}},
        "/v1/widgets/{widget_id}": {"get": {"operationId": "get_thing_v1_things__thing_id__get",
                                            "responses": {"200": {"description": "ok"}}}},
        "/healthz": {"get": {"operationId": "healthz", "responses": {"200": {"description": "ok"}}}},
    },
    "components": {"schemas": {"Thing": {"type": "object", "properties": {"size": {"type": "integer"}}}}},
}


def test_merge_takes_the_forwarded_operations_with_what_the_gateway_answers():
    app = _gateway()
    doc = merge(app.openapi(), {"widgets": UPSTREAM}, MergedOpenApi(app, {}).forwarded)
    assert set(doc["paths"]) == {"/v1/things/{thing_id}", "/v1/widgets", "/v1/widgets/{widget_id}"}  # no /healthz
    create = doc["paths"]["/v1/widgets"]["post"]
    assert create["security"] == [{"ApiKey": []}]
    assert set(create["responses"]) == {"201", "401", "403", "413", "503"}  # 403: a viewer may not write
    assert "403" not in doc["paths"]["/v1/widgets"]["get"]["responses"]  # every role reads
    assert create["responses"]["503"]["headers"]["Retry-After"]["required"] is True
    assert "413" not in doc["paths"]["/v1/widgets"]["get"]["responses"]  # no body, no 413
    assert "413" in doc["paths"]["/v1/things/{thing_id}"]["patch"]["responses"]  # the gateway's own body limit
    # a different schema under a name the gateway uses is renamed, and its references follow
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/widgets.Thing"}
    assert doc["components"]["schemas"]["Thing"]["properties"] == {  # request strings never hold NUL
        "name": {"title": "Name", "type": "string", "pattern": "^[^\\x00]*$"}}
    assert doc["components"]["schemas"]["widgets.Thing"] == UPSTREAM["components"]["schemas"]["Thing"]
    assert "ErrorBody" in doc["components"]["schemas"]
    # operation ids stay unique
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_a_missing_upstream_is_asked_again():
    app = _gateway()
    calls = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(503) if len(calls) == 1 else httpx.Response(200, json=UPSTREAM)

    merged = install(app, {"widgets": "http://widgets.internal"})
    merged.retry = 0.0
    merged.transport = httpx.MockTransport(answer)
    client = TestClient(app)
    first = client.get("/openapi.json").json()
    assert first["x-switchboard-unavailable"] == ["widgets"] and "/v1/widgets" not in first["paths"]
    second = client.get("/openapi.json").json()
    assert "x-switchboard-unavailable" not in second and "/v1/widgets" in second["paths"]
    assert calls == ["/openapi.json", "/openapi.json"]
    client.get("/openapi.json")
    assert len(calls) == 2  # cached
    assert "/openapi.json" in client.get("/docs").text


def test_a_405_names_every_method_of_the_path():
    app = _gateway()
    merged = install(app, {"widgets": "http://widgets.internal"})
    merged.transport = httpx.MockTransport(lambda request: httpx.Response(200, json=UPSTREAM))
    client = TestClient(app)
    r = client.request("OPTIONS", "/v1/things/1")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
    assert r.headers["allow"] == "DELETE, GET, PATCH"
    client.get("/openapi.json")  # the upstream's document is known: its methods, not the forwarding route's
    assert client.request("OPTIONS", "/v1/widgets").headers["allow"] == "GET, HEAD, POST"
