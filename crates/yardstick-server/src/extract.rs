//! Request extractors whose rejections go through the one error table.
//!
//! axum's own `Query`, `Json` and `Path` answer a malformed request with
//! `text/plain`; these wrap them so that every answer of the API, even to a
//! request that never reached a handler, is `{message, code}` JSON.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// `Query<T>` answering `400 bad_request` with the reason.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e: QueryRejection| ApiError::BadRequest(query_message(&e.body_text())))
    }
}

/// `Path<T>` answering `400 bad_request` with the reason.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e: PathRejection| match e.status() {
                StatusCode::INTERNAL_SERVER_ERROR => ApiError::Internal(e.body_text()),
                _ => ApiError::BadRequest(e.body_text()),
            })
    }
}

/// `Json<T>` answering `415` without a JSON content type and `400` for a
/// body that is not the expected JSON.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|j| ApiJson(j.0))
            .map_err(|e: JsonRejection| match e {
                JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
                    "this route takes a JSON body: send Content-Type: application/json".into(),
                ),
                JsonRejection::BytesRejection(_) => ApiError::BadRequest(e.body_text()),
                other => ApiError::BadRequest(other.body_text()),
            })
    }
}

/// serde's "Failed to deserialize query string: missing field `by`" says
/// what is wrong; keep it, without the parser's jargon prefix.
fn query_message(text: &str) -> String {
    let reason = text
        .strip_prefix("Failed to deserialize query string: ")
        .unwrap_or(text);
    format!("bad query parameters: {reason}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_messages_keep_the_reason() {
        assert_eq!(
            query_message("Failed to deserialize query string: missing field `by`"),
            "bad query parameters: missing field `by`"
        );
    }
}
