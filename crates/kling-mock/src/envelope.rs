//! The Kling response envelope (`{"code", "message", "request_id", "data"}`) and the
//! error type every handler returns. Nothing the mock answers is ever an HTML page or a
//! bare status: malformed requests get the envelope too, with the HTTP status the code
//! table pairs with the code.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kling_api::codes::ErrorCode;
use kling_api::types::{Envelope, SUCCEED_MESSAGE};
use serde::Serialize;

/// The business code of a response, kept in its extensions so the journal can record
/// it without parsing the body again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BusinessCode(pub(crate) u32);

/// A Kling error answer: the code (which fixes the HTTP status unless overridden) and
/// a detail that names the offending field or value and says what would be accepted.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub(crate) code: ErrorCode,
    pub(crate) detail: String,
    pub(crate) status: Option<u16>,
    pub(crate) message: Option<String>,
    pub(crate) retry_after: Option<u32>,
}

impl ApiError {
    pub(crate) fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError { code, detail: detail.into(), status: None, message: None, retry_after: None }
    }

    /// The envelope's `message`: the code table's text, then the detail.
    fn message(&self) -> String {
        match &self.message {
            Some(m) => m.clone(),
            None if self.detail.is_empty() => self.code.message().to_owned(),
            None => format!("{}: {}", self.code.message(), self.detail),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status.unwrap_or(self.code.http_status());
        let body =
            Envelope::<()> { code: self.code.code(), message: self.message(), request_id: request_id(), data: None };
        let mut response = json_response(status, &body);
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response.extensions_mut().insert(BusinessCode(self.code.code()));
        response
    }
}

/// A success envelope around `data`.
pub(crate) fn success<T: Serialize>(data: T) -> Response {
    let mut id = uuid::Uuid::encode_buffer();
    let body = EnvelopeRef {
        code: 0,
        message: SUCCEED_MESSAGE,
        request_id: new_uuid().hyphenated().encode_lower(&mut id),
        data: Some(data),
    };
    let mut response = json_response(200, &body);
    response.extensions_mut().insert(BusinessCode(0));
    response
}

fn json_response<T: Serialize>(status: u16, body: &T) -> Response {
    // Serialising our own types cannot fail (no maps with non-string keys, no
    // non-finite floats reach here); should it ever, the answer is still an envelope.
    let mut bytes = Vec::with_capacity(768);
    let bytes = match serde_json::to_writer(&mut bytes, body) {
        Ok(()) => bytes,
        Err(_) => br#"{"code":5000,"message":"Server internal error: response could not be encoded","request_id":"","data":null}"#
            .to_vec(),
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], bytes).into_response()
}

/// A fresh request id in UUID form. Drawn from the thread-local generator rather than
/// the operating system so that the hot path makes no system call per request.
pub(crate) fn request_id() -> String {
    new_uuid().to_string()
}

fn new_uuid() -> uuid::Uuid {
    uuid::Builder::from_random_bytes(rand::random()).into_uuid()
}

/// [`Envelope`] with borrowed text, for the success path: the same JSON without
/// allocating the message and the request id for every answer.
#[derive(Serialize)]
struct EnvelopeRef<'a, T> {
    code: u32,
    message: &'a str,
    request_id: &'a str,
    data: Option<T>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_carry_the_table_status_and_retry_after() {
        let mut e = ApiError::new(ErrorCode::RATE_LIMITED, "slow down");
        e.retry_after = Some(2);
        let r = e.into_response();
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()[header::RETRY_AFTER], "2");
        assert_eq!(r.extensions().get::<BusinessCode>().unwrap().0, 1302);
    }

    #[test]
    fn the_borrowed_envelope_is_the_same_json() {
        let owned = Envelope { code: 0, message: SUCCEED_MESSAGE.into(), request_id: "r".into(), data: Some(1) };
        let borrowed = EnvelopeRef { code: 0, message: SUCCEED_MESSAGE, request_id: "r", data: Some(1) };
        assert_eq!(serde_json::to_string(&owned).unwrap(), serde_json::to_string(&borrowed).unwrap());
    }

    #[test]
    fn request_ids_are_uuids() {
        let id = request_id();
        assert_eq!(id.len(), 36);
        assert_ne!(id, request_id());
    }
}
