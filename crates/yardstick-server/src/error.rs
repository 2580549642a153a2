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
    /// No such route or asset.
    #[error("{0}")]
    NotFound(String),
    /// An id in the path or query that names nothing — also what a party
    /// token gets for something not shared with it.
    #[error("{1}")]
    Unknown(Thing, String),
    /// A request that is not well formed (query string, path, body).
    #[error("{0}")]
    BadRequest(String),
    /// A time parameter (`from`, `to`, `as_reported`) that is not a time.
    #[error("{0}")]
    BadTime(String),
    /// A period label that is not one.
    #[error("{0}")]
    BadPeriod(String),
    /// An `entity` parameter that is not `column=value`.
    #[error("{0}")]
    BadEntity(String),
    /// A `by` that is not a dimension the KPI declares.
    #[error("{0}")]
    BadDimension(String),
    /// A well-formed request the data cannot answer (an entity or period the
    /// KPI does not have, a forecast without history).
    #[error("{0}")]
    Unanswerable(String),
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

/// Every code an error answer can carry (the OpenAPI document lists them
/// as the `code` field's values).
pub const CODES: [&str; 29] = [
    "missing_token",
    "invalid_token",
    "forbidden",
    "not_found",
    "unknown_kpi",
    "unknown_contract",
    "unknown_clause",
    "unknown_scorecard",
    "unknown_partnership",
    "unknown_source",
    "unknown_token",
    "unknown_reconciliation",
    "unknown_period",
    "unknown_action",
    "unknown_agreement",
    "unknown_proposal",
    "bad_request",
    "bad_time",
    "bad_period",
    "bad_entity",
    "bad_dimension",
    "unanswerable",
    "unsupported_media_type",
    "invalid_rows",
    "conflict",
    "unavailable",
    "payload_too_large",
    "timeout",
    "internal",
];

/// What kind of id an [`ApiError::Unknown`] is about: its code is
/// `unknown_` and the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Thing {
    Kpi,
    Contract,
    Clause,
    Scorecard,
    Partnership,
    Source,
    Token,
    Reconciliation,
    /// A period a reconciliation does not have.
    Period,
    /// A corrective action's number.
    Action,
    /// A contract, incentive plan or partnership, as signed terms.
    Agreement,
    /// A proposed amendment's number.
    Proposal,
}

impl Thing {
    /// The word for it in messages.
    fn word(self) -> &'static str {
        match self {
            Thing::Kpi => "KPI",
            Thing::Contract => "contract",
            Thing::Clause => "clause",
            Thing::Scorecard => "scorecard",
            Thing::Partnership => "partnership",
            Thing::Source => "source",
            Thing::Token => "token",
            Thing::Reconciliation => "reconciliation",
            Thing::Period => "period",
            Thing::Action => "action",
            Thing::Agreement => "agreement",
            Thing::Proposal => "proposal",
        }
    }
}

impl ApiError {
    /// `no KPI `id``: the answer for an id that names nothing, and for one
    /// not shared with the caller (the two are indistinguishable).
    pub fn unknown(thing: Thing, id: &str) -> ApiError {
        ApiError::Unknown(thing, format!("no {} `{id}`", thing.word()))
    }
}

/// The JSON body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong and what to do about it.
    pub message: String,
    /// A stable, machine-readable code: `unknown_kpi`, `unknown_contract` …
    /// for an id that names nothing (404); `bad_time`, `bad_period`,
    /// `bad_entity`, `bad_dimension` for the parameter that is wrong,
    /// `bad_request` for a malformed request, `unanswerable` for one the
    /// data cannot answer (400); `internal` is our fault (500).
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
            ApiError::Unknown(thing, _) => (
                StatusCode::NOT_FOUND,
                match thing {
                    Thing::Kpi => "unknown_kpi",
                    Thing::Contract => "unknown_contract",
                    Thing::Clause => "unknown_clause",
                    Thing::Scorecard => "unknown_scorecard",
                    Thing::Partnership => "unknown_partnership",
                    Thing::Source => "unknown_source",
                    Thing::Token => "unknown_token",
                    Thing::Reconciliation => "unknown_reconciliation",
                    Thing::Period => "unknown_period",
                    Thing::Action => "unknown_action",
                    Thing::Agreement => "unknown_agreement",
                    Thing::Proposal => "unknown_proposal",
                },
            ),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::BadTime(_) => (StatusCode::BAD_REQUEST, "bad_time"),
            ApiError::BadPeriod(_) => (StatusCode::BAD_REQUEST, "bad_period"),
            ApiError::BadEntity(_) => (StatusCode::BAD_REQUEST, "bad_entity"),
            ApiError::BadDimension(_) => (StatusCode::BAD_REQUEST, "bad_dimension"),
            ApiError::Unanswerable(_) => (StatusCode::BAD_REQUEST, "unanswerable"),
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
            yardstick_store::StoreError::NoToken(id) => ApiError::unknown(Thing::Token, &id),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// An evaluation's errors by fault: what the data cannot answer is the
/// request's problem (400); an internal error stays ours (500).
impl From<yardstick_engine::eval::EvalError> for ApiError {
    fn from(e: yardstick_engine::eval::EvalError) -> Self {
        match e {
            yardstick_engine::eval::EvalError::Data(m) => ApiError::Unanswerable(m),
            e @ yardstick_engine::eval::EvalError::Internal(_) => ApiError::Internal(e.to_string()),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// One error of each kind (the match makes a new variant fail to
    /// compile here until it is added).
    fn one_of_each() -> Vec<ApiError> {
        let s = || "x".to_string();
        let all = vec![
            ApiError::MissingToken,
            ApiError::InvalidToken,
            ApiError::Forbidden(s()),
            ApiError::NotFound(s()),
            ApiError::Unknown(Thing::Kpi, s()),
            ApiError::Unknown(Thing::Contract, s()),
            ApiError::Unknown(Thing::Clause, s()),
            ApiError::Unknown(Thing::Scorecard, s()),
            ApiError::Unknown(Thing::Partnership, s()),
            ApiError::Unknown(Thing::Source, s()),
            ApiError::Unknown(Thing::Token, s()),
            ApiError::Unknown(Thing::Reconciliation, s()),
            ApiError::Unknown(Thing::Period, s()),
            ApiError::Unknown(Thing::Action, s()),
            ApiError::Unknown(Thing::Agreement, s()),
            ApiError::Unknown(Thing::Proposal, s()),
            ApiError::BadRequest(s()),
            ApiError::BadTime(s()),
            ApiError::BadPeriod(s()),
            ApiError::BadEntity(s()),
            ApiError::BadDimension(s()),
            ApiError::Unanswerable(s()),
            ApiError::UnsupportedMediaType(s()),
            ApiError::InvalidRows(vec![]),
            ApiError::Conflict(s()),
            ApiError::Unavailable(s()),
            ApiError::PayloadTooLarge(1),
            ApiError::Timeout,
            ApiError::Internal(s()),
        ];
        for e in &all {
            match e {
                ApiError::MissingToken
                | ApiError::InvalidToken
                | ApiError::Forbidden(_)
                | ApiError::NotFound(_)
                | ApiError::Unknown(..)
                | ApiError::BadRequest(_)
                | ApiError::BadTime(_)
                | ApiError::BadPeriod(_)
                | ApiError::BadEntity(_)
                | ApiError::BadDimension(_)
                | ApiError::Unanswerable(_)
                | ApiError::UnsupportedMediaType(_)
                | ApiError::InvalidRows(_)
                | ApiError::Conflict(_)
                | ApiError::Unavailable(_)
                | ApiError::PayloadTooLarge(_)
                | ApiError::Timeout
                | ApiError::Internal(_) => {}
            }
        }
        all
    }

    #[test]
    fn every_code_is_listed_and_distinct() {
        let mut codes: Vec<&str> = one_of_each().iter().map(|e| e.status_and_code().1).collect();
        let listed: std::collections::BTreeSet<&str> = CODES.iter().copied().collect();
        for c in &codes {
            assert!(listed.contains(c), "`{c}` is not in CODES");
        }
        let n = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), n, "two errors share a code");
        assert_eq!(listed.len(), n, "CODES lists a code no error has");
    }

    #[test]
    fn user_faults_are_4xx_and_only_our_bugs_are_500() {
        for e in one_of_each() {
            let (status, code) = e.status_and_code();
            let ours = matches!(e, ApiError::Internal(_));
            assert_eq!(status.is_server_error(), ours || code == "unavailable", "{code}");
        }
    }

    #[test]
    fn evaluation_errors_keep_their_fault() {
        let data = ApiError::from(yardstick_engine::eval::EvalError::Data("no entity".into()));
        assert_eq!(data.status_and_code(), (StatusCode::BAD_REQUEST, "unanswerable"));
        let bug = ApiError::from(yardstick_engine::eval::EvalError::Internal("oops".into()));
        assert_eq!(bug.status_and_code().1, "internal");
    }
}
