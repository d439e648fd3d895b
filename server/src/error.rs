//! One error type for every failure a client can see, rendered as `{"error": "...", "status": N}`.

use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn method_not_allowed(method: &axum::http::Method, allow: &'static str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("method {method} is not allowed here; allowed: {allow}"),
        )
        .with_header(header::ALLOW, HeaderValue::from_static(allow))
    }

    pub fn precondition_failed(current_etag: &str) -> Self {
        let err = Self::new(
            StatusCode::PRECONDITION_FAILED,
            format!(
                "If-Match does not match the current version {current_etag}; \
                 fetch the annotation again and reapply the change"
            ),
        );
        match HeaderValue::from_str(current_etag) {
            Ok(value) => err.with_header(header::ETAG, value),
            Err(_) => err,
        }
    }

    pub fn precondition_required() -> Self {
        Self::new(
            StatusCode::PRECONDITION_REQUIRED,
            "If-Match is required: send the ETag of the version you are changing",
        )
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body exceeds the limit of {limit} bytes"),
        )
    }

    pub fn unsupported_media_type(got: Option<&str>) -> Self {
        let got = match got {
            Some(value) => format!("got Content-Type {value:?}"),
            None => "no Content-Type was sent".to_string(),
        };
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "send application/ld+json; profile=\"http://www.w3.org/ns/anno.jsonld\" \
                 (or application/json); {got}"
            ),
        )
    }

    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many requests from this client; retry after {retry_after_secs} s"),
        )
        .with_header(header::RETRY_AFTER, HeaderValue::from(retry_after_secs))
    }

    /// A failure of ours: the details go to the log, the client gets a stable message.
    pub fn internal(context: &str, err: impl std::fmt::Display) -> Self {
        tracing::error!("{context}: {err}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error while {context}"),
        )
    }

    /// The database is busy or unreachable: worth retrying, unlike a 500.
    pub fn unavailable(context: &str, err: impl std::fmt::Display) -> Self {
        tracing::warn!("{context}: {err}");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("storage is temporarily unavailable while {context}; retry later"),
        )
        .with_header(header::RETRY_AFTER, HeaderValue::from_static("1"))
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message, "status": self.status.as_u16() });
        let mut response = (
            self.status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body.to_string(),
        )
            .into_response();
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}
