//! Thousands of random requests thrown at `app()`: whatever comes in, the answer is a
//! Kling envelope whose HTTP status is the one the code table pairs with its code (or a
//! CDN file, or the `OpenAPI` document), and it comes back promptly.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, header};
use kling_api::jwt;
use kling_api::params::REQUEST_KEYS;
use kling_mock::{ErrorCode, Fault, FaultPlan, FaultRule, MockConfig, Route, Trigger};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom as _;
use rand::{Rng as _, SeedableRng as _};
use serde_json::{Map, Value, json};
use tower::ServiceExt as _;

const REQUESTS: usize = 4000;

const PATHS: &[&str] = &[
    "/v1/videos/text2video",
    "/v1/videos/image2video",
    "/v1/videos/multi-image2video",
    "/v1/videos/video-extend",
    "/v1/videos/lip-sync",
    "/v1/videos/effects",
    "/v1/images/generations",
    "/v1/videos/omni-video",
    "/account/costs",
    "/cdn",
    "/__admin/health",
    "/__admin/requests",
    "/__admin/faults",
    "/__admin/clock",
    "/__admin/credits",
    "/__admin/tasks",
    "/",
    "/v1",
    "/v2/videos/text2video",
];

/// Keys of other endpoints and of the admin API, beside every video request key.
const OTHER_KEYS: &[&str] =
    &["n", "image_list", "video_id", "input", "effect_scene", "rules", "advance_seconds", "units"];

/// A key the mock may know: a request key of kling-api, or one of [`OTHER_KEYS`].
fn random_key(rng: &mut StdRng) -> String {
    let keys = if rng.random_bool(0.5) { REQUEST_KEYS } else { OTHER_KEYS };
    (*keys.choose(rng).unwrap()).to_owned()
}

fn random_string(rng: &mut StdRng) -> String {
    let pool = [
        "kling-v1",
        "kling-v2-6",
        "kling-v2-1",
        "kling-v9",
        "5",
        "10",
        "7",
        "std",
        "pro",
        "16:9",
        "on",
        "data:image/png;base64,AAAA",
        "https://x/a.png",
        "http://127.0.0.1:1/cb",
        "iVBORw0KGgo=",
        "",
        "é",
        "simple",
        "create",
    ];
    if rng.random_bool(0.8) {
        (*pool.choose(rng).unwrap()).to_owned()
    } else {
        let len = rng.random_range(0..40);
        (0..len).map(|_| char::from_u32(rng.random_range(1..0x2FFF)).unwrap_or('?')).collect()
    }
}

fn random_value(rng: &mut StdRng, depth: u32) -> Value {
    match rng.random_range(0..if depth > 2 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => json!(rng.random_bool(0.5)),
        2 => json!(rng.random_range(-20..20)),
        3 => json!(rng.random_range(-2.0..12.0)),
        4 => json!(random_string(rng)),
        5 => Value::Array((0..rng.random_range(0..5)).map(|_| random_value(rng, depth + 1)).collect()),
        _ => {
            let mut map = Map::new();
            for _ in 0..rng.random_range(0..5) {
                let key = if rng.random_bool(0.7) { random_key(rng) } else { random_string(rng) };
                map.insert(key, random_value(rng, depth + 1));
            }
            Value::Object(map)
        }
    }
}

fn random_body(rng: &mut StdRng) -> Vec<u8> {
    match rng.random_range(0..6) {
        0 => Vec::new(),
        1 => (0..rng.random_range(1..200)).map(|_| rng.random()).collect(),
        2 => {
            // Cut anywhere, even inside a UTF-8 sequence: bodies are bytes.
            let mut bytes = random_value(rng, 0).to_string().into_bytes();
            bytes.truncate(rng.random_range(0..=bytes.len()));
            bytes
        }
        3 => {
            json!({"prompt": random_string(rng), "duration": random_value(rng, 2), "model_name": random_value(rng, 2)})
                .to_string()
                .into_bytes()
        }
        _ => {
            let mut map = Map::new();
            for _ in 0..rng.random_range(0..8) {
                map.insert(random_key(rng), random_value(rng, 1));
            }
            Value::Object(map).to_string().into_bytes()
        }
    }
}

fn random_path(rng: &mut StdRng) -> String {
    let mut path = (*PATHS.choose(rng).unwrap()).to_owned();
    for _ in 0..rng.random_range(0..3) {
        path.push('/');
        let segment: String = match rng.random_range(0..4) {
            0 => "8123456789012345678".into(),
            1 => "%FF%00%2F".into(),
            2 => "x.mp4".into(),
            _ => random_string(rng).chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect(),
        };
        path.push_str(&segment);
    }
    if rng.random_bool(0.4) {
        let params = ["pageNum", "pageSize", "start_time", "end_time", "exp", "sig", "kind", "since", "limit"];
        let values =
            ["1", "0", "-1", "500", "501", "abc", "99999999999999999999999", "1700000000000", "%FF", "", "api"];
        let query: Vec<String> = (0..rng.random_range(1..4))
            .map(|_| format!("{}={}", params.choose(rng).unwrap(), values.choose(rng).unwrap()))
            .collect();
        path.push('?');
        path.push_str(&query.join("&"));
    }
    path
}

#[tokio::test]
async fn random_requests_only_ever_get_envelopes() {
    let plan = FaultPlan::new().with_seed(3).rule(FaultRule::new(
        Route::Any,
        Trigger::Probability(0.05),
        Fault::error(ErrorCode::SERVER_TIMEOUT),
    ));
    let config = MockConfig {
        max_body_bytes: 4096,
        ..MockConfig::default().with_concurrency_limit(100_000).with_credits(1e9).with_faults(plan)
    };
    let (app, state) = common::mock(config);
    let mut rng = StdRng::seed_from_u64(0x006b_6c69_6e67);
    let now = state.clock_ms() / 1000;
    let tokens = [
        state.token(),
        jwt::mint("ak-test", "sk-test", now - 4000),
        jwt::mint("ak-test", "wrong", now),
        jwt::encode(&json!({"alg": "none"}), &json!({"iss": "ak-test"}), ""),
        "a.b.c".to_owned(),
        "eyJ.eyJ.".to_owned(),
    ];
    let methods =
        [Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::PATCH, Method::HEAD, Method::OPTIONS];
    let mut seen_codes = std::collections::BTreeSet::new();
    for i in 0..REQUESTS {
        let method = methods.choose(&mut rng).unwrap().clone();
        let path = random_path(&mut rng);
        let Ok(uri) = path.parse::<axum::http::Uri>() else {
            continue;
        };
        let mut builder = Request::builder().method(method.clone()).uri(uri);
        match rng.random_range(0..10) {
            0 => {}
            1 => {
                builder = builder.header(header::AUTHORIZATION, random_string(&mut rng).replace(['\r', '\n'], ""));
            }
            2 => builder = builder.header(header::AUTHORIZATION, format!("Bearer  {}", tokens[0])),
            _ => {
                builder = builder.header(header::AUTHORIZATION, format!("Bearer {}", tokens.choose(&mut rng).unwrap()));
            }
        }
        match rng.random_range(0..5) {
            0 => {}
            1 => builder = builder.header(header::CONTENT_TYPE, "text/plain"),
            _ => builder = builder.header(header::CONTENT_TYPE, "application/json"),
        }
        let body = if rng.random_bool(0.02) { vec![b'x'; 10_000] } else { random_body(&mut rng) };
        let Ok(request) = builder.body(Body::from(body)) else {
            continue;
        };
        let response = tokio::time::timeout(Duration::from_secs(5), app.clone().oneshot(request))
            .await
            .unwrap_or_else(|_| panic!("request {i} ({method} {path}) hung"))
            .unwrap();
        let status = response.status().as_u16();
        let content_type = response.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned());
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        if method == Method::HEAD {
            assert!(status == 200 || status >= 400, "request {i}: HEAD {path} -> {status}");
            continue;
        }
        match content_type.as_deref() {
            Some("video/mp4" | "image/png") => {
                assert_eq!(status, 200);
                continue;
            }
            Some("application/json") => {}
            other => panic!("request {i} ({method} {path}) answered {status} with content type {other:?}"),
        }
        let envelope: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!("request {i} ({method} {path}): body is not JSON ({e}): {:?}", String::from_utf8_lossy(&bytes))
        });
        if envelope.get("openapi").is_some() {
            continue;
        }
        for key in ["code", "message", "request_id", "data"] {
            assert!(envelope.get(key).is_some(), "request {i} ({method} {path}): no {key} in {envelope}");
        }
        let code = envelope["code"].as_u64().unwrap();
        seen_codes.insert(code);
        let expected = if code == 0 {
            200
        } else {
            ErrorCode::from_code(u32::try_from(code).unwrap())
                .unwrap_or_else(|| panic!("unknown code {code}"))
                .http_status()
        };
        assert_eq!(status, expected, "request {i} ({method} {path}): {envelope}");
    }
    // The run really covered the ground: successes and most families of errors.
    for code in [0, 1000, 1001, 1002, 1004, 1200, 1201, 1202, 1203, 5002] {
        assert!(seen_codes.contains(&code), "no request got code {code}; seen {seen_codes:?}");
    }
    assert!(state.journal().len() > 100);
}
