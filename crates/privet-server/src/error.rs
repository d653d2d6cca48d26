//! `ApiError`: every failure at the HTTP edge, mapped to an RFC 9457 problem+json body in one place.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// An RFC 9457 problem body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the problem type.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What went wrong in this case and how to fix it.
    pub detail: String,
}

/// Every error a handler can return.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No or unknown credentials.
    #[error("authentication required")]
    Unauthenticated,
    /// Sign-in failed; the detail is the same whatever the reason.
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// No such resource (or not visible to the caller).
    #[error("{0} not found")]
    NotFound(String),
    /// Conflicts with existing state.
    #[error("{0}")]
    Conflict(String),
    /// Malformed request (syntax).
    #[error("{0}")]
    BadRequest(String),
    /// Well-formed but invalid input.
    #[error("{0}")]
    Unprocessable(String),
    /// Body larger than allowed.
    #[error("request body larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// More events in one ingest batch than allowed.
    #[error("more than {max} events in one batch; send them in smaller batches")]
    TooManyEvents {
        /// The limit in events.
        max: usize,
    },
    /// Body larger than the configured limit, found while reading a JSON body (where the
    /// limit is not at hand).
    #[error("the request body is larger than this server accepts")]
    BodyTooLarge,
    /// The route exists, but not for this method.
    #[error("this route does not accept that method; the `Allow` header lists the ones it does")]
    MethodNotAllowed,
    /// Wrong content type.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Too many requests.
    #[error("too many requests; retry in {retry_after} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// Not ready (e.g. shutting down).
    #[error("service unavailable")]
    Unavailable,
    /// A failure on our side; the detail is logged, never returned.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
            ),
            ApiError::Unauthorized(_) => {
                (StatusCode::UNAUTHORIZED, "sign-in-failed", "Sign-in failed")
            }
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Not allowed"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            ApiError::BadRequest(_) => {
                (StatusCode::BAD_REQUEST, "bad-request", "Malformed request")
            }
            ApiError::Unprocessable(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid", "Invalid input")
            }
            ApiError::TooLarge { .. } | ApiError::TooManyEvents { .. } | ApiError::BodyTooLarge => {
                (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too-large",
                    "Request too large",
                )
            }
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            ),
            ApiError::UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            ),
            ApiError::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
            ),
            ApiError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }

    /// The body this error answers with.
    pub fn problem(&self) -> Problem {
        let (status, kind, title) = self.parts();
        let detail = match self {
            ApiError::Unauthenticated => {
                "send `Authorization: Bearer <token>` with a valid API key, device token or session"
                    .to_owned()
            }
            // Never describe internal failures to the caller.
            ApiError::Internal(_) => {
                "something went wrong on our side; it has been logged".to_owned()
            }
            ApiError::Unavailable => "the service is not ready; retry shortly".to_owned(),
            other => other.to_string(),
        };
        Problem {
            kind: format!("https://privet.example/problems/{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(cause = %cause, "internal error");
        }
        let problem = self.problem();
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut resp = (status, body).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let ApiError::RateLimited { retry_after } = self
            && let Ok(v) = HeaderValue::from_str(&retry_after.to_string())
        {
            h.insert(header::RETRY_AFTER, v);
        }
        if matches!(self, ApiError::Unauthenticated) {
            h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

impl From<privet_store::Error> for ApiError {
    fn from(e: privet_store::Error) -> Self {
        match e {
            privet_store::Error::NotFound { entity, .. } => ApiError::NotFound(entity.to_owned()),
            privet_store::Error::Conflict { entity, id } => {
                ApiError::Conflict(format!("{entity} {id} already exists"))
            }
            privet_store::Error::Closed => ApiError::Unavailable,
            other => ApiError::Internal(format!("{other}: {}", source_chain(&other))),
        }
    }
}

impl From<privet_crypto::Error> for ApiError {
    fn from(e: privet_crypto::Error) -> Self {
        ApiError::Internal(format!("crypto: {e}"))
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::BodyTooLarge;
        }
        match e {
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
                "send the body as `Content-Type: application/json`".to_owned(),
            ),
            JsonRejection::JsonSyntaxError(_) => {
                ApiError::BadRequest("the body is not valid JSON".to_owned())
            }
            JsonRejection::JsonDataError(d) => {
                ApiError::Unprocessable(without_values(&d.body_text()))
            }
            JsonRejection::BytesRejection(_) => {
                ApiError::BadRequest("could not read the body".to_owned())
            }
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        // A query string can carry personal values too (a subject's e-mail typed as an id).
        ApiError::BadRequest(without_values(&e.body_text()))
    }
}

/// serde's messages quote the offending value ("invalid type: string \"x\", expected …");
/// values may be personal data, so keep the field path and the expectation only.
pub(crate) fn without_values(msg: &str) -> String {
    let mut out = msg
        .trim_start_matches("Failed to deserialize the JSON body into the target type: ")
        .to_owned();
    for kind in [
        "invalid type",
        "invalid value",
        "unknown variant",
        "invalid length",
    ] {
        if let Some(i) = out.find(kind) {
            let rest = &out[i..];
            let end = rest.find(", expected").unwrap_or(rest.len());
            out = format!("{}{}", &out[..i + kind.len()], &rest[end..]);
        }
    }
    out
}

fn source_chain(e: &dyn std::error::Error) -> String {
    let mut out = Vec::new();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push(s.to_string());
        cur = s.source();
    }
    out.join(": ")
}

/// Result with [`ApiError`].
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_lose_their_values() {
        let m = without_values(
            "Failed to deserialize the JSON body into the target type: granted: invalid type: string \"SECRET\", expected a boolean at line 1 column 20",
        );
        assert_eq!(
            m,
            "granted: invalid type, expected a boolean at line 1 column 20"
        );
        let v =
            without_values("role: unknown variant `SECRET`, expected one of `admin`, `analyst`");
        assert!(!v.contains("SECRET"), "{v}");
    }
}
