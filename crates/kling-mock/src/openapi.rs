//! An `OpenAPI` 3.0 description of the mock's API and admin API, generated from the same
//! `kling-api` tables the mock validates with, so it cannot drift from what is served.
//! Served at `GET /__admin/openapi.json`.

use kling_api::codes;
use kling_api::models;
use kling_api::params;
use kling_api::resources::{FieldKind, RESOURCES, Resource};
use serde_json::{Map, Value, json};

/// The document, with `base_url` as its server.
pub(crate) fn document(base_url: &str) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    schemas.insert("Envelope".into(), envelope_schema());
    schemas.insert("Task".into(), task_schema());
    for resource in RESOURCES {
        let name = schema_name(resource);
        schemas.insert(name.clone(), request_schema(resource));
        paths.insert(format!("/v1/{}", resource.path), collection_path(resource, &name));
        paths.insert(format!("/v1/{}/{{id}}", resource.path), item_path(resource));
    }
    paths.insert("/account/costs".into(), costs_path());
    paths.insert("/cdn/{task_id}/{file}".into(), cdn_path());
    for (path, item) in admin_paths() {
        paths.insert(path, item);
    }
    let code_table: Vec<String> =
        codes::ALL.iter().map(|c| format!("| {} | {} | {} |", c.http_status(), c.code(), c.meaning())).collect();
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "kling-mock",
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!(
                "A mock of the Kling AI API with an admin API under /__admin. Every JSON answer is an \
                 envelope {{code, message, request_id, data}}; errors carry these codes:\n\n\
                 | HTTP | code | meaning |\n|---|---|---|\n{}",
                code_table.join("\n")
            ),
        },
        "servers": [{"url": base_url}],
        "security": [{"kling_jwt": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "kling_jwt": {
                    "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                    "description": "HS256 JWT with header {alg: HS256, typ: JWT} and claims iss = access key, exp = now + 1800, nbf = now - 5",
                },
                "admin_token": {"type": "http", "scheme": "bearer", "description": "only when the mock has an admin_token; otherwise loopback clients need none"},
            },
            "responses": {
                "Error": {
                    "description": "A Kling error envelope (see the code table in info.description)",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Envelope"}}},
                },
            },
        },
    })
}

fn schema_name(resource: &Resource) -> String {
    let mut name = String::new();
    let mut upper = true;
    for c in resource.path.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(if upper { c.to_ascii_uppercase() } else { c });
            upper = false;
        } else {
            upper = true;
        }
    }
    name + "Request"
}

fn envelope_of(data: &Value) -> Value {
    json!({
        "allOf": [
            {"$ref": "#/components/schemas/Envelope"},
            {"type": "object", "properties": {"data": data}},
        ]
    })
}

fn ok(description: &str, data: &Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": envelope_of(data)}}})
}

fn errors() -> Value {
    json!({"$ref": "#/components/responses/Error"})
}

fn envelope_schema() -> Value {
    json!({
        "type": "object",
        "required": ["code", "message", "request_id", "data"],
        "properties": {
            "code": {"type": "integer", "description": "0 on success, otherwise a business code"},
            "message": {"type": "string"},
            "request_id": {"type": "string", "format": "uuid"},
            "data": {"nullable": true},
        },
    })
}

fn task_schema() -> Value {
    json!({
        "type": "object",
        "required": ["task_id", "task_status", "task_info", "created_at", "updated_at"],
        "properties": {
            "task_id": {"type": "string"},
            "task_status": {"type": "string", "enum": kling_api::types::STATUS_VALUES},
            "task_status_msg": {"type": "string", "description": "why a failed task failed"},
            "task_info": {"type": "object", "properties": {"external_task_id": {"type": "string"}}},
            "task_result": {
                "type": "object",
                "properties": {
                    "videos": {"type": "array", "items": {"type": "object", "properties": {
                        "id": {"type": "string"}, "url": {"type": "string", "format": "uri"},
                        "duration": {"type": "string"}}}},
                    "images": {"type": "array", "items": {"type": "object", "properties": {
                        "index": {"type": "integer"}, "url": {"type": "string", "format": "uri"}}}},
                },
            },
            "created_at": {"type": "integer", "description": "ms since the epoch"},
            "updated_at": {"type": "integer", "description": "ms since the epoch"},
        },
    })
}

fn field_schema(resource: &Resource, kind: FieldKind) -> Value {
    match kind {
        FieldKind::Model => {
            json!({"type": "string", "enum": models::names_serving(resource.id), "default": models::DEFAULT_MODEL})
        }
        FieldKind::Prompt => json!({"type": "string", "maxLength": params::PROMPT_MAX_CHARS}),
        FieldKind::Text(max) => json!({"type": "string", "maxLength": max}),
        FieldKind::Enum(values) => json!({"type": "string", "enum": values}),
        FieldKind::Duration => json!({
            "type": "string", "enum": models::V3_DURATIONS, "default": "5",
            "description": "a string, never a number; \"5\" or \"10\" up to kling-v2-6, \"3\"..\"15\" on kling-v3",
        }),
        FieldKind::Number(lo, hi) => json!({"type": "number", "minimum": lo, "maximum": hi}),
        FieldKind::Integer(lo, hi) => json!({"type": "integer", "minimum": lo, "maximum": hi}),
        FieldKind::Image => {
            json!({"type": "string", "description": "an http(s) URL or raw base64, never a data: URI"})
        }
        FieldKind::Url => json!({"type": "string", "format": "uri"}),
        FieldKind::CameraControl => json!({
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": params::CAMERA_TYPES},
                "config": {"type": "object", "description": "only with type simple: exactly one non-zero axis in [-10, 10]",
                    "properties": params::CAMERA_AXES.iter().map(|a| ((*a).to_owned(), json!({"type": "number", "minimum": -10, "maximum": 10}))).collect::<Map<String, Value>>()},
            },
        }),
        FieldKind::DynamicMasks => {
            json!({"type": "array", "maxItems": params::MAX_DYNAMIC_MASKS, "items": {"type": "object",
            "required": ["mask", "trajectories"], "properties": {"mask": {"type": "string"},
            "trajectories": {"type": "array", "items": {"type": "object", "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}}}}}}})
        }
        FieldKind::ImageList => {
            json!({"type": "array", "minItems": 1, "maxItems": 4, "items": {"type": "object",
            "required": ["image"], "properties": {"image": {"type": "string"}}}})
        }
        FieldKind::Object => json!({"type": "object"}),
    }
}

fn request_schema(resource: &Resource) -> Value {
    let properties: Map<String, Value> =
        resource.fields.iter().map(|f| (f.name.to_owned(), field_schema(resource, f.kind))).collect();
    let required: Vec<&str> = resource.fields.iter().filter(|f| f.required).map(|f| f.name).collect();
    let mut notes = Vec::new();
    if !resource.one_of_required.is_empty() {
        notes.push(format!("at least one of {} is required", resource.one_of_required.join(", ")));
    }
    if !resource.exclusive_groups.is_empty() {
        let groups: Vec<String> = resource.exclusive_groups.iter().map(|g| g.join("/")).collect();
        notes.push(format!("at most one of these groups per request: {}", groups.join("; ")));
    }
    let mut schema = json!({"type": "object", "properties": properties, "description": notes.join(". ")});
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

fn collection_path(resource: &Resource, schema: &str) -> Value {
    let task = json!({"$ref": "#/components/schemas/Task"});
    json!({
        "post": {
            "summary": format!("Create a {} task", resource.path),
            "operationId": format!("create_{}", resource.path.replace(['/', '-'], "_")),
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}},
            "responses": {"200": ok("the task, submitted", &task), "default": errors()},
        },
        "get": {
            "summary": format!("List {} tasks, newest first", resource.path),
            "operationId": format!("list_{}", resource.path.replace(['/', '-'], "_")),
            "parameters": [
                {"name": "pageNum", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1}},
                {"name": "pageSize", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 30}},
            ],
            "responses": {"200": ok("a page of tasks", &json!({"type": "array", "items": task})), "default": errors()},
        },
    })
}

fn item_path(resource: &Resource) -> Value {
    json!({
        "get": {
            "summary": format!("Read one {} task by task_id or external_task_id", resource.path),
            "operationId": format!("get_{}", resource.path.replace(['/', '-'], "_")),
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": {"200": ok("the task", &json!({"$ref": "#/components/schemas/Task"})), "default": errors()},
        },
    })
}

fn costs_path() -> Value {
    json!({
        "get": {
            "summary": "The account's resource packs (one query per second)",
            "operationId": "account_costs",
            "parameters": [
                {"name": "start_time", "in": "query", "required": true, "schema": {"type": "integer"}, "description": "Unix milliseconds"},
                {"name": "end_time", "in": "query", "required": true, "schema": {"type": "integer"}, "description": "Unix milliseconds"},
            ],
            "responses": {"200": ok("resource packs", &json!({"type": "object"})), "default": errors()},
        },
    })
}

fn cdn_path() -> Value {
    json!({
        "get": {
            "summary": "Download a result (signed, expiring URL as given in task_result)",
            "operationId": "download",
            "security": [],
            "parameters": [
                {"name": "task_id", "in": "path", "required": true, "schema": {"type": "string"}},
                {"name": "file", "in": "path", "required": true, "schema": {"type": "string"}},
                {"name": "exp", "in": "query", "required": true, "schema": {"type": "integer"}},
                {"name": "sig", "in": "query", "required": true, "schema": {"type": "string"}},
            ],
            "responses": {
                "200": {"description": "the file", "content": {"video/mp4": {}, "image/png": {}}},
                "403": {"description": "expired or tampered URL (envelope, code 1103)"},
                "default": errors(),
            },
        },
    })
}

fn admin_paths() -> Vec<(String, Value)> {
    let op = |id: &str, summary: &str| {
        json!({"operationId": id, "summary": summary, "tags": ["admin"], "security": [{}, {"admin_token": []}],
            "responses": {"200": ok(summary, &json!({})), "default": errors()}})
    };
    let mut faults = json!({"get": op("admin_get_faults", "The fault plan with per-rule counters")});
    let mut set = op("admin_set_faults", "Replace the fault plan");
    set["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"type": "object",
        "properties": {"seed": {"type": "integer"}, "rules": {"type": "array", "items": {"type": "object",
        "required": ["route", "fault"], "properties": {
            "route": {"type": "string", "description": "create, query, list, download, costs, any, or \"METHOD /path*\""},
            "nth": {"type": "array", "items": {"type": "integer"}}, "first": {"type": "integer"},
            "after": {"type": "integer"}, "always": {"type": "boolean"}, "probability": {"type": "number"},
            "fault": {"type": "string", "enum": ["error", "stall", "reset", "empty", "truncate", "stuck", "fail", "expired-url"]},
            "code": {"type": "integer"}, "status": {"type": "integer"}, "message": {"type": "string"},
            "retry_after": {"type": "integer"}, "seconds": {"type": "number"}}}}}}}}});
    faults["post"] = set;
    let mut clock = json!({"get": op("admin_get_clock", "The mock's clock")});
    let mut advance = op("admin_advance_clock", "Move the mock's clock (token exp/nbf, lifecycles, URL TTLs)");
    advance["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"type": "object",
        "required": ["advance_seconds"], "properties": {"advance_seconds": {"type": "number"}}}}}});
    clock["post"] = advance;
    let mut credits = op("admin_set_credits", "Set an account's remaining credit units");
    credits["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"type": "object",
        "required": ["units"], "properties": {"access_key": {"type": "string"}, "units": {"type": "number"}}}}}});
    let mut requests = op("admin_requests", "The journal, oldest first");
    requests["parameters"] = json!([
        {"name": "since", "in": "query", "schema": {"type": "integer"}, "description": "only records with seq above this"},
        {"name": "kind", "in": "query", "schema": {"type": "string", "enum": ["api", "cdn", "callback"]}},
        {"name": "limit", "in": "query", "schema": {"type": "integer"}, "description": "only the latest N"},
    ]);
    vec![
        ("/__admin/health".into(), json!({"get": op("admin_health", "Liveness and counters")})),
        ("/__admin/requests".into(), json!({"get": requests})),
        ("/__admin/reset".into(), json!({"post": op("admin_reset", "Back to the state at start")})),
        ("/__admin/faults".into(), faults),
        ("/__admin/tasks".into(), json!({"get": op("admin_tasks", "Every task")})),
        ("/__admin/clock".into(), clock),
        ("/__admin/credits".into(), json!({"post": credits})),
        (
            "/__admin/openapi.json".into(),
            json!({"get": {"operationId": "admin_openapi", "summary": "This document",
            "tags": ["admin"], "responses": {"200": {"description": "OpenAPI 3.0 document"}}}}),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `$ref` in the document points at something that exists.
    fn check_refs(doc: &Value, node: &Value) {
        match node {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    let pointer = r.strip_prefix('#').expect("local ref");
                    assert!(doc.pointer(pointer).is_some(), "dangling {r}");
                }
                map.values().for_each(|v| check_refs(doc, v));
            }
            Value::Array(items) => items.iter().for_each(|v| check_refs(doc, v)),
            _ => {}
        }
    }

    #[test]
    fn describes_every_resource_and_admin_route_with_resolvable_refs() {
        let doc = document("http://127.0.0.1:1");
        assert_eq!(doc["openapi"], "3.0.3");
        for r in RESOURCES {
            assert!(doc["paths"][format!("/v1/{}", r.path)]["post"].is_object(), "{}", r.path);
            assert!(doc["paths"][format!("/v1/{}/{{id}}", r.path)]["get"].is_object(), "{}", r.path);
        }
        for p in [
            "/__admin/requests",
            "/__admin/reset",
            "/__admin/faults",
            "/__admin/tasks",
            "/__admin/clock",
            "/__admin/health",
        ] {
            assert!(doc["paths"][p].is_object(), "{p}");
        }
        let t2v = &doc["components"]["schemas"]["VideosText2videoRequest"];
        assert_eq!(t2v["properties"]["duration"]["type"], "string");
        assert_eq!(t2v["required"], json!(["prompt"]));
        check_refs(&doc, &doc);
    }
}
