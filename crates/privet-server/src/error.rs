//! `ApiError`: every failure at the HTTP edge — a service's typed [`ServiceError`], or what the
//! edge itself refuses (credentials, body, method) — mapped to an RFC 9457 problem+json body
//! in one place.

use crate::service::error::{Conflict, Invalid, ServiceError};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use privet_policy::DecodeError;
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
    /// A manifest refused for its lint errors: each error's rule and place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<Vec<crate::service::publish::ManifestFinding>>,
}

/// Every error a handler can return.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// What a service answered.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// No or unknown credentials.
    #[error("authentication required")]
    Unauthenticated,
    /// Malformed request (syntax): the message of the extractor, stripped of values.
    #[error("{0}")]
    BadRequest(String),
    /// A body or query that does not fit its schema: serde's message, stripped of values.
    #[error("{0}")]
    Unprocessable(String),
    /// Body larger than allowed.
    #[error("request body larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Body larger than the configured limit, found while reading a JSON body (where the
    /// limit is not at hand).
    #[error("the request body is larger than this server accepts")]
    BodyTooLarge,
    /// No such route.
    #[error("route not found")]
    NoRoute,
    /// The route exists, but not for this method.
    #[error("this route does not accept that method; the `Allow` header lists the ones it does")]
    MethodNotAllowed,
    /// Wrong content type.
    #[error("{0}")]
    UnsupportedMediaType(&'static str),
    /// The request's head or body did not arrive within its timeout.
    #[error("the request did not arrive within {secs} s; send it whole, without pauses")]
    RequestTimeout {
        /// The timeout that ran out, in seconds.
        secs: u64,
    },
    /// Every connection the server keeps open is serving a request.
    #[error("the server is serving as many connections as it allows; retry shortly")]
    Overloaded,
}

/// Result with [`ApiError`].
pub type ApiResult<T> = Result<T, ApiError>;

impl From<privet_store::Error> for ApiError {
    fn from(e: privet_store::Error) -> Self {
        ApiError::Service(e.into())
    }
}

impl From<privet_policy::Denied> for ApiError {
    fn from(e: privet_policy::Denied) -> Self {
        ApiError::Service(e.into())
    }
}

impl From<crate::service::error::Forbidden> for ApiError {
    fn from(e: crate::service::error::Forbidden) -> Self {
        ApiError::Service(e.into())
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        ApiError::Service(e.into())
    }
}

/// Status, type name and title of a service error.
pub(crate) fn service_parts(e: &ServiceError) -> (StatusCode, &'static str, &'static str) {
    use privet_store::Error as Store;
    const INTERNAL: (StatusCode, &str, &str) = (
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Internal error",
    );
    match e {
        ServiceError::NotFound(_) | ServiceError::Store(Store::NotFound { .. }) => {
            (StatusCode::NOT_FOUND, "not-found", "Not found")
        }
        ServiceError::SubjectDenied(privet_policy::SubjectDenied::Hidden) => {
            (StatusCode::NOT_FOUND, "not-found", "Not found")
        }
        ServiceError::Denied(_) | ServiceError::SubjectDenied(_) | ServiceError::Forbidden(_) => {
            (StatusCode::FORBIDDEN, "forbidden", "Not allowed")
        }
        ServiceError::Invalid(Invalid::Batch(DecodeError::TooManyEvents { .. })) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Request too large",
        ),
        ServiceError::Invalid(
            Invalid::ExportFormat | Invalid::ZeroLimit | Invalid::RequestStatus | Invalid::Since,
        ) => (StatusCode::BAD_REQUEST, "bad-request", "Malformed request"),
        ServiceError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid", "Invalid input"),
        ServiceError::Conflict(Conflict::VersionTaken { .. }) => (
            StatusCode::CONFLICT,
            "version-taken",
            "Manifest version already published",
        ),
        ServiceError::Conflict(_) | ServiceError::Store(Store::Conflict { .. }) => {
            (StatusCode::CONFLICT, "conflict", "Conflict")
        }
        ServiceError::SignInFailed => {
            (StatusCode::UNAUTHORIZED, "sign-in-failed", "Sign-in failed")
        }
        ServiceError::RateLimited { .. } => (
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
        ),
        ServiceError::Unavailable | ServiceError::Store(Store::Closed) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service unavailable",
        ),
        ServiceError::Broker(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "broker-unavailable",
            "Message broker unavailable",
        ),
        ServiceError::Store(_)
        | ServiceError::Crypto(_)
        | ServiceError::Block(_)
        | ServiceError::Corrupt(_) => INTERNAL,
    }
}

/// What a service error says to the caller.
pub(crate) fn service_detail(e: &ServiceError) -> String {
    use privet_store::Error as Store;
    match e {
        // The store's ids may be placeholders; the entity is what the caller needs.
        ServiceError::Store(Store::NotFound { entity, .. }) => format!("{entity} not found"),
        ServiceError::Store(Store::Conflict { entity, .. }) => {
            format!("that {entity} already exists or conflicts with its current state")
        }
        ServiceError::Invalid(Invalid::Batch(DecodeError::TooManyEvents { max })) => {
            format!("more than {max} events in one batch; send them in smaller batches")
        }
        ServiceError::RateLimited { retry_after } => {
            format!("too many requests; retry in {retry_after} s")
        }
        ServiceError::Unavailable | ServiceError::Store(Store::Closed) => {
            "the service is not ready; retry shortly".to_owned()
        }
        ServiceError::Broker(_) => {
            "the MQTT broker did not answer or refused the change; nothing was changed, retry shortly".to_owned()
        }
        // Never describe internal failures to the caller.
        ServiceError::Store(_)
        | ServiceError::Crypto(_)
        | ServiceError::Block(_)
        | ServiceError::Corrupt(_) => {
            "something went wrong on our side; it has been logged".to_owned()
        }
        other => other.to_string(),
    }
}

impl ApiError {
    /// A raw body that could not be read: too large (over `limit` bytes), or cut off.
    pub(crate) fn unreadable_body(
        e: &axum::extract::rejection::BytesRejection,
        limit: usize,
    ) -> Self {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge { limit }
        } else {
            ApiError::BadRequest("could not read the body".to_owned())
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::Service(e) => service_parts(e),
            ApiError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
            ),
            ApiError::BadRequest(_) => {
                (StatusCode::BAD_REQUEST, "bad-request", "Malformed request")
            }
            ApiError::Unprocessable(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid", "Invalid input")
            }
            ApiError::TooLarge { .. } | ApiError::BodyTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                "Request too large",
            ),
            ApiError::NoRoute => (StatusCode::NOT_FOUND, "not-found", "Not found"),
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
            ApiError::RequestTimeout { .. } => (
                StatusCode::REQUEST_TIMEOUT,
                "request-timeout",
                "Request timeout",
            ),
            ApiError::Overloaded => (
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                "Too many connections",
            ),
        }
    }

    /// Whether this is a failure on our side (logged, never described).
    pub fn is_internal(&self) -> bool {
        self.parts().0.is_server_error()
    }

    /// The body this error answers with.
    pub fn problem(&self) -> Problem {
        let (status, kind, title) = self.parts();
        let detail = match self {
            ApiError::Service(e) => service_detail(e),
            ApiError::Unauthenticated => {
                "send `Authorization: Bearer <token>` with a valid API key, device token or session"
                    .to_owned()
            }
            other => other.to_string(),
        };
        let findings = match self {
            ApiError::Service(ServiceError::Invalid(Invalid::Manifest(errors))) => {
                Some(errors.0.clone())
            }
            _ => None,
        };
        Problem {
            kind: format!("https://privet.example/problems/{kind}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            findings,
        }
    }

    /// Logs an internal failure's cause chain (ids and messages of our own code, never
    /// personal values).
    pub fn log_if_internal(&self, what: &str) {
        if self.parts().0 == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(cause = %source_chain(self), "{what}");
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log_if_internal("internal error");
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
        if let ApiError::Service(ServiceError::RateLimited { retry_after }) = self
            && let Ok(v) = HeaderValue::from_str(&retry_after.to_string())
        {
            h.insert(header::RETRY_AFTER, v);
        }
        if matches!(self, ApiError::Unauthenticated) {
            h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if matches!(self, ApiError::RequestTimeout { .. }) {
            // RFC 9110 §15.5.9: the rest of the request may still come; this connection is
            // done with it.
            h.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        resp
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> Self {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::BodyTooLarge;
        }
        match e {
            JsonRejection::MissingJsonContentType(_) => {
                ApiError::UnsupportedMediaType("send the body as `Content-Type: application/json`")
            }
            JsonRejection::JsonSyntaxError(_) => {
                ApiError::BadRequest("the body is not valid JSON".to_owned())
            }
            JsonRejection::JsonDataError(d) => {
                ApiError::Unprocessable(without_values(&d.body_text()))
            }
            JsonRejection::BytesRejection(_) => {
                ApiError::BadRequest("could not read the body".to_owned())
            }
            other => ApiError::BadRequest(without_values(&other.body_text())),
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

/// An error and its causes, `: `-separated, as `{:#}` prints an anyhow error.
pub(crate) fn source_chain(e: &dyn std::error::Error) -> String {
    let mut out = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push(s.to_string());
        cur = s.source();
    }
    out.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::error::{Conflict, Missing};

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

    #[test]
    fn service_errors_answer_with_their_status() {
        let status = |e: ServiceError| ApiError::from(e).problem().status;
        assert_eq!(status(Missing::Subject.into()), 404);
        assert_eq!(status(privet_policy::SubjectDenied::Hidden.into()), 404);
        assert_eq!(status(privet_policy::SubjectDenied::OwnerOnly.into()), 403);
        assert_eq!(status(Invalid::NothingToCorrect.into()), 422);
        assert_eq!(status(Invalid::ZeroLimit.into()), 400);
        assert_eq!(
            status(Invalid::Batch(DecodeError::TooManyEvents { max: 3 }).into()),
            413
        );
        assert_eq!(status(Conflict::RequestDone.into()), 409);
        assert_eq!(status(ServiceError::SignInFailed), 401);
        assert_eq!(status(ServiceError::RateLimited { retry_after: 2 }), 429);
        assert_eq!(status(ServiceError::Corrupt("profile")), 500);
        assert_eq!(status(privet_store::Error::Closed.into()), 503);
        let hidden = ApiError::from(ServiceError::Corrupt("profile"))
            .problem()
            .detail;
        assert!(!hidden.contains("profile"), "{hidden}");
    }
}
