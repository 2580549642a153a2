//! One table from errors to HTTP answers: a status and a JSON body
//! `{"message", "code"}` (plus `errors` for rejected rows).
//!
//! The user's fault (a bad request, bad rows, a missing token) is answered
//! with a message that says what to fix. Our fault is answered with a plain
//! apology; the details go to the log, never to the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use yardstick_engine::ingest::RowError;

/// An error answer.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("this route needs a bearer token: Authorization: Bearer ys_…")]
    MissingToken,
    #[error("the bearer token is unknown or revoked")]
    InvalidToken,
    #[error("{0}")]
    Forbidden(String),
    /// Also what a party token gets for something not shared with it.
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the batch was rejected: {}, nothing was stored", yardstick_core::format::count(.0.len(), "bad row", "bad rows"))]
    InvalidRows(Vec<RowError>),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("the request body is larger than this server accepts ({0} bytes): push smaller batches")]
    PayloadTooLarge(usize),
    #[error("the request took too long and was stopped")]
    Timeout,
    #[error("internal error: {0}")]
    Internal(String),
}

/// The JSON body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong and what to do about it.
    pub message: String,
    /// A stable, machine-readable code.
    pub code: &'static str,
    /// For `invalid_rows`: every bad row (1-based row, column, reason).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub errors: Option<Vec<RowError>>,
}

impl ApiError {
    /// The one table: status and code of each error.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::MissingToken => (StatusCode::UNAUTHORIZED, "missing_token"),
            ApiError::InvalidToken => (StatusCode::UNAUTHORIZED, "invalid_token"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::InvalidRows(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_rows"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::Timeout => (StatusCode::REQUEST_TIMEOUT, "timeout"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<yardstick_store::StoreError> for ApiError {
    fn from(e: yardstick_store::StoreError) -> Self {
        match e {
            yardstick_store::StoreError::KeyReused(_) => ApiError::Conflict(e.to_string()),
            yardstick_store::StoreError::NoToken(id) => ApiError::NotFound(format!("no token `{id}`")),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let (message, errors) = match self {
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                (
                    "Sorry, something went wrong on our side. It has been logged; please try again or tell your administrator."
                        .to_string(),
                    None,
                )
            }
            ApiError::InvalidRows(rows) => (
                format!(
                    "the batch was rejected: {}, nothing was stored",
                    yardstick_core::format::count(rows.len(), "bad row", "bad rows")
                ),
                Some(rows),
            ),
            other => (other.to_string(), None),
        };
        let mut res = (
            status,
            Json(ErrorBody {
                message,
                code,
                errors,
            }),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        res
    }
}
