//! Cross-origin access for the origins given with `--allow-origin`.
//!
//! The widget runs on news sites and talks to this server from their origin, so the browser
//! sends a preflight before each PUT/DELETE/JSON POST. An allowed origin gets the preflight
//! answered and may read `ETag`, `Location`, `Retry-After` and the other protocol headers; a
//! preflight from any other origin is refused with 403 and a JSON message.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

const ALLOW_METHODS: &str = "GET, HEAD, POST, PUT, DELETE, OPTIONS";
const ALLOW_HEADERS: &str =
    "Accept, Accept-Language, Content-Type, If-Match, If-None-Match, Prefer";
const EXPOSE_HEADERS: &str =
    "ETag, Location, Content-Location, Link, Allow, Accept-Post, Retry-After, Preference-Applied, Vary";
const MAX_AGE_SECS: &str = "600";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedOrigins {
    any: bool,
    origins: Vec<String>,
}

impl AllowedOrigins {
    /// Each entry is `*` or an origin such as `https://news.example` (scheme, host, port).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<AllowedOrigins, String> {
        let mut allowed = AllowedOrigins::default();
        for entry in entries {
            let entry = entry.as_ref().trim();
            if entry == "*" {
                allowed.any = true;
                continue;
            }
            let origin = entry.trim_end_matches('/').to_ascii_lowercase();
            let Some((scheme, rest)) = origin.split_once("://") else {
                return Err(format!(
                    "--allow-origin {entry:?}: expected an origin such as https://news.example"
                ));
            };
            if !matches!(scheme, "http" | "https")
                || rest.is_empty()
                || rest.contains(['/', '?', '#', '@', ' '])
            {
                return Err(format!(
                    "--allow-origin {entry:?}: expected scheme://host[:port] with no path, such as https://news.example"
                ));
            }
            allowed.origins.push(origin);
        }
        Ok(allowed)
    }

    pub fn allows(&self, origin: &str) -> bool {
        self.any || self.origins.iter().any(|o| o.eq_ignore_ascii_case(origin))
    }

    pub fn is_empty(&self) -> bool {
        !self.any && self.origins.is_empty()
    }
}

pub async fn cors(
    State(allowed): State<Arc<AllowedOrigins>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(origin) = request.headers().get(header::ORIGIN).cloned() else {
        return next.run(request).await;
    };
    let permitted = origin.to_str().is_ok_and(|o| allowed.allows(o));
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);

    if preflight {
        let mut response = if permitted {
            let mut ok = StatusCode::NO_CONTENT.into_response();
            let h = ok.headers_mut();
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(ALLOW_METHODS),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(ALLOW_HEADERS),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static(MAX_AGE_SECS),
            );
            ok
        } else {
            let shown = origin.to_str().unwrap_or("(not text)");
            ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "cross-origin requests from {shown} are not allowed; \
                     start the server with --allow-origin {shown} to allow them"
                ),
            )
            .into_response()
        };
        add_vary(
            response.headers_mut(),
            "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        );
        return response;
    }

    let mut response = next.run(request).await;
    let h = response.headers_mut();
    if permitted {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
    add_vary(h, "Origin");
    response
}

/// Appends to `Vary` instead of replacing what the handler set (e.g. `Accept`).
fn add_vary(headers: &mut HeaderMap, value: &'static str) {
    let combined = match headers.get(header::VARY).and_then(|v| v.to_str().ok()) {
        Some(existing) if !existing.is_empty() => format!("{existing}, {value}"),
        _ => value.to_string(),
    };
    if let Ok(combined) = HeaderValue::from_str(&combined) {
        headers.insert(header::VARY, combined);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_list() {
        let allowed =
            AllowedOrigins::parse(&["https://news.example/", "http://127.0.0.1:8080"]).unwrap();
        assert!(allowed.allows("https://news.example"));
        assert!(allowed.allows("HTTPS://NEWS.EXAMPLE"));
        assert!(allowed.allows("http://127.0.0.1:8080"));
        assert!(!allowed.allows("https://evil.example"));
        assert!(!allowed.allows("https://news.example.evil.example"));
        assert!(AllowedOrigins::parse(&["*"])
            .unwrap()
            .allows("https://any.example"));
        assert!(AllowedOrigins::parse::<&str>(&[]).unwrap().is_empty());
        for bad in [
            "news.example",
            "https://news.example/path",
            "ftp://x",
            "https://",
        ] {
            assert!(AllowedOrigins::parse(&[bad]).is_err(), "{bad}");
        }
    }
}
