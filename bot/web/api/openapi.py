"""The OpenAPI 3.1 document, generated from `OPERATIONS` and the pydantic models they name.

OpenAPI 3.1 schemas are JSON Schema 2020-12, which is what pydantic emits, so the models'
schemas go into `components/schemas` unchanged; nothing is written twice by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from bot.web.api.outputs import ErrorBody
from bot.web.api.routes import ERRORS, OPENAPI_PATH, OPERATIONS, Operation

_REF = "#/components/schemas/{model}"
_JSON = "application/json"


def _models() -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    pairs: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorBody, "serialization")]
    for op in OPERATIONS:
        if op.request is not None:
            pairs.append((op.request, "validation"))
        pairs += [(model, "serialization") for model, _ in op.responses.values()]
    return list(dict.fromkeys(pairs))


def _content(schema: dict[str, Any]) -> dict[str, Any]:
    return {_JSON: {"schema": schema}}


# (model, mode) → the `$ref` of its schema, as pydantic's models_json_schema returns them.
Refs = Mapping[tuple[Any, JsonSchemaMode], Any]


def _operation(op: Operation, refs: Refs) -> dict[str, Any]:
    error_ref = refs[(ErrorBody, "serialization")]
    responses: dict[str, Any] = {
        str(status): {"description": text, "content": _content(refs[(model, "serialization")])}
        for status, (model, text) in sorted(op.responses.items())
    }
    for status in sorted(op.errors):
        responses[str(status)] = {"description": ERRORS[status], "content": _content(error_ref)}
    document: dict[str, Any] = {
        "operationId": op.view,
        "summary": op.summary,
        **({"description": op.description} if op.description else {}),
        "parameters": [
            {
                "name": name,
                "in": "path",
                "required": True,
                "description": text,
                "schema": {"type": "string"},
            }
            for name, text in op.path_params.items()
        ],
        "responses": responses,
    }
    if op.request is not None:
        document["requestBody"] = {
            "required": not op.body_optional,
            "content": _content(refs[(op.request, "validation")]),
        }
    if op.public:
        document["security"] = []
    return document


def build_openapi(server_url: str) -> dict[str, Any]:
    refs, top = models_json_schema(_models(), ref_template=_REF)
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.full_path, {})[op.method.lower()] = _operation(op, refs)
    paths[OPENAPI_PATH] = {
        "get": {
            "operationId": "openapi",
            "summary": "本文档 / this document",
            "security": [],
            "responses": {
                "200": {
                    "description": "OpenAPI 3.1",
                    "content": {_JSON: {"schema": {"type": "object"}}},
                }
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Fission API",
            "version": "1",
            "description": (
                "订单、客户、行为事件写入与客户卡片、邀请统计查询。金额单位为分；时间为 ISO 8601。"
                "除本文档外，每个请求都需要 Authorization: Bearer <FISSION_API_TOKEN>。\n\n"
                "Orders, customers and events in; customer cards and referral statistics out. "
                "Money in fen. Every call but this document needs the bearer token."
            ),
        },
        "servers": [{"url": server_url}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "schemas": top.get("$defs", {}),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
