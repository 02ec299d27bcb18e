"""GET /api/v1/openapi.json: a valid OpenAPI 3.1 document that describes every API route, and
whose schemas the real responses satisfy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from api_support import AUTH, BASE_URL, Client, inviter_with_code, web_client
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from models.db import Database

ISSUE_PATH = "/api/v1/customers/{external_id}/referral-code"


async def _document(client: Client) -> dict[str, Any]:
    resp = await client.get("/api/v1/openapi.json")  # no token: the document holds no data
    assert resp.status == 200
    document: dict[str, Any] = await resp.json()
    return document


async def test_a_valid_openapi_3_1_document_of_every_api_route(
    db: Database, tmp_path: Path
) -> None:
    async with web_client(db, tmp_path) as client:
        document = await _document(client)
        routes = {
            (route.resource.canonical, route.method.lower())
            for route in client.app.router.routes()  # type: ignore[union-attr]
            if route.resource is not None
            and route.resource.canonical.startswith("/api/v1/")
            and route.method != "HEAD"
        }
    assert document["openapi"] == "3.1.0"
    validate(document)
    assert document["servers"] == [{"url": BASE_URL}]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    documented = {
        (path, method) for path, operations in document["paths"].items() for method in operations
    }
    assert routes == documented
    assert len(routes) == 8


def test_each_operation_documents_its_error_statuses() -> None:
    from bot.web.api.openapi import build_openapi

    paths = build_openapi(BASE_URL)["paths"]
    orders = paths["/api/v1/orders"]["post"]["responses"]
    assert set(orders) == {"200", "201", "400", "401", "409", "413", "422"}
    card = paths["/api/v1/customers/{external_id}"]["get"]
    assert set(card["responses"]) == {"200", "401", "404"}
    assert card["parameters"][0]["name"] == "external_id"
    redeem = paths["/api/v1/coupons/{code}/redeem"]["post"]["responses"]
    assert set(redeem) == {"200", "400", "401", "404", "409", "413", "422"}
    issue = paths[ISSUE_PATH]["post"]
    assert set(issue["responses"]) == {"200", "201", "400", "401", "404", "409", "413", "422"}
    assert issue["requestBody"]["required"] is False  # no body: the running program
    assert "no_program_running" in issue["description"]


def _validator(document: dict[str, Any], path: str, method: str, status: int) -> Any:
    content = document["paths"][path][method]["responses"][str(status)]["content"]
    schema = {**content["application/json"]["schema"], "components": document["components"]}
    return Draft202012Validator(schema)


async def test_real_responses_satisfy_the_documented_schemas(db: Database, tmp_path: Path) -> None:
    _, code = await inviter_with_code(db)
    async with web_client(db, tmp_path) as client:
        document = await _document(client)
        calls: list[tuple[str, str, Any, int]] = [
            ("/api/v1/customers", "post", {"external_id": "F", "referral_code": code}, 201),
            (
                "/api/v1/orders",
                "post",
                {
                    "order_no": "SO-1",
                    "customer_external_id": "F",
                    "amount": 120,
                    "paid_at": "2024-05-01 10:00",
                },
                201,
            ),
            (
                "/api/v1/events",
                "post",
                [{"customer_external_id": "F", "kind": "view", "occurred_at": "2024-05-01"}],
                201,
            ),
            ("/api/v1/customers/C-INVITER", "get", None, 200),
            ("/api/v1/customers/F/referral-code", "post", None, 201),
            ("/api/v1/customers/F/referral-code", "post", {"program": "default"}, 200),
            ("/api/v1/customers/F/referral-code", "post", {"program": "nope"}, 409),
            ("/api/v1/customers/NOBODY/referral-code", "post", None, 404),
            (f"/api/v1/referrals/{code}", "get", None, 200),
            ("/api/v1/orders", "post", {"order_no": 5}, 422),
        ]
        for url, method, body, status in calls:
            resp = await client.request(method, url, json=body, headers=AUTH)
            assert resp.status == status, await resp.text()
            template = {
                "/api/v1/customers/C-INVITER": "/api/v1/customers/{external_id}",
                "/api/v1/customers/F/referral-code": ISSUE_PATH,
                "/api/v1/customers/NOBODY/referral-code": ISSUE_PATH,
                f"/api/v1/referrals/{code}": "/api/v1/referrals/{code}",
            }.get(url, url)
            errors = list(
                _validator(document, template, method, status).iter_errors(await resp.json())
            )
            assert errors == [], (url, [error.message for error in errors])
