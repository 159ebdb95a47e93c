"""The /api/v1 parent: JSON errors, the OpenAPI document assembled from each package's part.

The API authenticates voters with a bearer token in the Authorization header, never with a
cookie: a page on another site cannot make a browser attach it, so it cannot cast a vote. CSRF
tokens are therefore not needed here, and the blueprint is exempt from them.
"""
from flask import Blueprint, jsonify

from .extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

#: The document; packages add their paths and schemas with ``document``.
OPENAPI = {
    "openapi": "3.1.0",
    "info": {
        "title": "Award platform API",
        "version": "1.0.0",
        "description": "Public reading and voting for the phone mini-program. Voters obtain a "
                       "bearer token with a one-time code sent to their phone.",
    },
    "servers": [{"url": "/api/v1"}],
    "paths": {},
    "components": {
        "securitySchemes": {"voter": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": {"type": ["string", "integer"]},
                                   "title": {"type": "string"},
                                   "message": {"type": "string"}},
                }},
            },
        },
        "responses": {
            "NotFound": {"description": "Not found or not public",
                         "content": {"application/json": {"schema": {
                             "$ref": "#/components/schemas/Error"}}}},
            "BadRequest": {"description": "Not understood: malformed, or text with a NUL byte",
                           "content": {"application/json": {"schema": {
                               "$ref": "#/components/schemas/Error"}}}},
            "TooMany": {"description": "Rate limited; see Retry-After",
                        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                        "content": {"application/json": {"schema": {
                            "$ref": "#/components/schemas/Error"}}}},
        },
    },
}


def document(paths, schemas):
    """Add a package's paths and component schemas to the OpenAPI document. Every operation that
    takes input may answer 400 (app/errors.py refuses NUL bytes before any view)."""
    for operations in paths.values():
        for operation in operations.values():
            if operation.get("requestBody") or operation.get("parameters"):
                operation["responses"].setdefault(
                    "400", {"$ref": "#/components/responses/BadRequest"})
    OPENAPI["paths"].update(paths)
    OPENAPI["components"]["schemas"].update(schemas)


def error(status, code, message, headers=None):
    return jsonify({"error": {"code": code, "message": str(message)}}), status, headers or {}


@bp.get("/openapi.json")
def openapi():
    return jsonify(OPENAPI)


document({"/openapi.json": {"get": {
    "summary": "This document", "operationId": "openapi",
    "responses": {"200": {"description": "The OpenAPI document",
                          "content": {"application/json": {"schema": {"type": "object"}}}}}}}},
    {})
