//! Completes the generated OpenAPI document where route annotations say less than the server
//! does, in one place rather than on every route: every response has a description (OpenAPI
//! requires one), and every error status the server answers is documented as an RFC 9457
//! problem (`application/problem+json`, schema `Problem`), as `crate::error` writes them.

use utoipa::openapi::path::Operation;
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};

/// The reason phrase a response without a description gets.
fn reason(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "Created",
        "202" => "Accepted",
        "204" => "No content",
        "303" => "See other",
        "304" => "Not modified",
        "400" => "Bad request: a malformed parameter or body",
        "401" => "Unauthorized: no credentials, or credentials that are not valid",
        "403" => "Forbidden: the credentials do not allow this",
        "404" => "Not found",
        "405" => "Method not allowed",
        "408" => "Request timeout",
        "409" => "Conflict with the current state",
        "410" => "Gone",
        "413" => "The body is too large",
        "415" => "Unsupported content type",
        "422" => "Unprocessable: the request is well-formed but not acceptable",
        "429" => "Too many requests: retry after the `Retry-After` seconds",
        "500" => "Internal error",
        "503" => "Unavailable: a dependency (the store, the broker) does not answer",
        _ => "See the operation's description",
    }
}

/// Statuses every operation with a request body can answer before its handler decides.
const BODY_STATUSES: &[&str] = &["400", "413", "415", "422"];

/// Completes every operation of `doc`.
pub(crate) fn complete(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            complete_operation(op);
        }
    }
}

fn complete_operation(op: &mut Operation) {
    if op.request_body.is_some() {
        for status in BODY_STATUSES {
            op.responses
                .responses
                .entry((*status).to_owned())
                .or_insert_with(|| RefOr::T(Response::new("")));
        }
    }
    let has_query = op.parameters.as_ref().is_some_and(|ps| {
        ps.iter().any(|p| {
            matches!(p, RefOr::T(p) if p.parameter_in == utoipa::openapi::path::ParameterIn::Query)
        })
    });
    if has_query {
        op.responses
            .responses
            .entry("400".to_owned())
            .or_insert_with(|| RefOr::T(Response::new("")));
    }
    for (status, response) in op.responses.responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        if response.description.is_empty() {
            response.description = reason(status).to_owned();
        }
        let is_error = status.starts_with('4') || status.starts_with('5');
        if is_error && response.content.is_empty() {
            response.content.insert(
                "application/problem+json".to_owned(),
                RefOr::T(Content::new(Some(Ref::from_schema_name("Problem")))),
            );
        }
    }
}
