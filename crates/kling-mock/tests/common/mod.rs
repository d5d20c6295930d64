//! Helpers shared by the integration tests: in-process requests through `app()` and a
//! small HTTP client for tests over a real socket.
#![allow(dead_code, unreachable_pub)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use kling_mock::{MockConfig, MockState, app};
use serde_json::Value;
use tower::ServiceExt as _;

/// A router and its state.
pub fn mock(config: MockConfig) -> (Router, MockState) {
    let state = MockState::new(config).expect("valid config");
    (app(state.clone()), state)
}

/// An answer, with the body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
    pub json: Value,
}

impl Answer {
    /// The envelope's business code.
    pub fn code(&self) -> u64 {
        self.json["code"].as_u64().unwrap_or_else(|| panic!("not an envelope: {self:?}"))
    }

    pub fn message(&self) -> &str {
        self.json["message"].as_str().unwrap_or("")
    }

    pub fn data(&self) -> &Value {
        &self.json["data"]
    }

    /// Assert HTTP status and business code, showing the message when they differ.
    #[track_caller]
    pub fn expect(&self, status: u16, code: u64) -> &Self {
        assert_eq!(
            (self.status.as_u16(), self.code()),
            (status, code),
            "expected {status}/{code}, got {}/{} ({})",
            self.status,
            self.code(),
            self.message()
        );
        self
    }

    /// Assert the message mentions `needle`.
    #[track_caller]
    pub fn mentions(&self, needle: &str) -> &Self {
        assert!(self.message().contains(needle), "message {:?} does not mention {needle:?}", self.message());
        self
    }
}

/// Send a request through the router.
pub async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer { status, headers, bytes, json }
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// `POST path` with a JSON body and a token.
pub fn post(path: &str, token: Option<&str>, body: &Value) -> Request<Body> {
    let mut b = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, bearer(t));
    }
    b.body(Body::from(serde_json::to_vec(body).unwrap())).unwrap()
}

/// `GET path` with a token.
pub fn get(path: &str, token: Option<&str>) -> Request<Body> {
    let mut b = Request::get(path);
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, bearer(t));
    }
    b.body(Body::empty()).unwrap()
}

/// Create a text2video task and return its id.
pub async fn create_t2v(app: &Router, state: &MockState, body: &Value) -> String {
    let a = send(app, post("/v1/videos/text2video", Some(&state.token()), body)).await;
    a.expect(200, 0);
    a.data()["task_id"].as_str().unwrap().to_owned()
}
