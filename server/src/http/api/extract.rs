//! Extractors that turn every client mistake into an [`ApiError`] naming the field:
//! malformed JSON, a wrong type, an unknown or repeated field is 400, text with control
//! characters 422 (the domain's rule, [`escalator_domain::text`]), never axum's plain-text
//! rejection and never a silently ignored input.

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::StatusCode;
use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::http::ApiError;

/// A JSON body (required: an empty body is a 400).
pub struct ApiJson<T>(pub T);

/// A JSON body that may be left out: an empty body reads as `T::default()`.
pub struct OptionalJson<T>(pub T);

/// A query string.
pub struct ApiQuery<T>(pub T);

/// Path parameters.
pub struct ApiPath<T>(pub T);

fn bad_request(message: String, path: String) -> ApiError {
    // serde reports a missing field at the parent's path; name the field itself.
    let field = match message
        .strip_prefix("missing field `")
        .and_then(|m| m.split('`').next())
    {
        Some(missing) if path == "." => missing.to_string(),
        Some(missing) => format!("{path}.{missing}"),
        None => path,
    };
    let error = ApiError::new(StatusCode::BAD_REQUEST, "malformed_request", message);
    if matches!(field.as_str(), "." | "?" | "") {
        error
    } else {
        error.with_field(field)
    }
}

/// Deserializes, naming the field of a type error and refusing fields the target type
/// does not have (a misspelt `startedAt` must not silently start a workflow now).
fn strict<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(deserializer: D) -> Result<T, ApiError> {
    let mut unknown: Option<String> = None;
    let mut note = |path: serde_ignored::Path<'_>| {
        unknown.get_or_insert_with(|| path.to_string());
    };
    let ignoring = serde_ignored::Deserializer::new(deserializer, &mut note);
    let value = serde_path_to_error::deserialize(ignoring)
        .map_err(|e| bad_request(e.inner().to_string(), e.path().to_string()))?;
    match unknown {
        None => Ok(value),
        Some(field) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "unknown_field",
            format!("unknown field `{field}`: check its spelling against the API document"),
        )
        .with_field(field)),
    }
}

/// Refuses control characters in every string (and object key) of a JSON body, naming
/// the first offending field by its path.
fn check_text(value: &serde_json::Value, path: &str) -> Result<(), ApiError> {
    let field = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        serde_json::Value::String(s) => {
            escalator_domain::text::check(if path.is_empty() { "." } else { path }, s).map_err(invalid)
        }
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| check_text(item, &format!("{path}[{i}]"))),
        serde_json::Value::Object(map) => map.iter().try_for_each(|(key, item)| {
            escalator_domain::text::check(&field(key), key).map_err(invalid)?;
            check_text(item, &field(key))
        }),
        _ => Ok(()),
    }
}

fn invalid(err: escalator_domain::ValidationError) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_value", err.message).with_field(err.field)
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match json_body(req, state).await? {
            Some(value) => Ok(ApiJson(value)),
            None => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_request",
                "this request needs a JSON body",
            )),
        }
    }
}

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Ok(OptionalJson(json_body(req, state).await?.unwrap_or_default()))
    }
}

/// The body parsed strictly, or `None` when it is empty.
async fn json_body<S: Send + Sync, T: DeserializeOwned>(req: Request, state: &S) -> Result<Option<T>, ApiError> {
    let is_json = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim_start().starts_with("application/json"));
    let bytes = Bytes::from_request(req, state).await.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", e.body_text())
        }
        _ => ApiError::new(StatusCode::BAD_REQUEST, "malformed_request", e.body_text()),
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    if !is_json {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send a JSON body with Content-Type: application/json",
        ));
    }
    // Every request body is an object. serde would also read a struct from an array of
    // its fields in order (`[]` for one whose fields all have defaults), which no client
    // means and the API document does not allow.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_request",
            "the body must be a JSON object",
        )
        .with_field("."));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
    let value = strict(&mut deserializer)?;
    deserializer
        .end()
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_request", e.to_string()))?;
    // Control characters can only arrive escaped (`\u0000`, `\b`, `\f`), so a body
    // without a backslash needs no second look.
    if bytes.contains(&b'\\') {
        let tree: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_request", e.to_string()))?;
        check_text(&tree, "")?;
    }
    Ok(Some(value))
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let mut seen = std::collections::HashSet::new();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            if !seen.insert(key.clone()) {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_request",
                    format!("the query parameter {key:?} is given more than once"),
                )
                .with_field(key.into_owned()));
            }
            escalator_domain::text::check(&key, &value).map_err(invalid)?;
        }
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        strict(deserializer).map(ApiQuery)
    }
}

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let decoded = percent_encoding::percent_decode_str(parts.uri.path()).decode_utf8_lossy();
        escalator_domain::text::check("path", &decoded).map_err(invalid)?;
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_path", e.body_text()).with_field("path"))
    }
}
