//! `POST /api/v1/sources/{id}/rows`: pushing rows into a stored source.

use super::*;

/// The answer to a push.
#[derive(Debug, Serialize, ToSchema)]
pub struct Pushed {
    pub source: String,
    pub rows: i64,
    /// The batch's sequence number in the store.
    pub batch: i64,
    /// True when this `Idempotency-Key` had been seen: nothing new was stored.
    pub replayed: bool,
}

#[utoipa::path(post, path = "/api/v1/sources/{id}/rows", security(("bearer" = [])),
    params(("id" = String, Path, description = "a source with `store = true` (for a party token: one it submits, `submitted_by`)"),
           ("Idempotency-Key" = Option<String>, Header, description = "makes retries safe: a batch is stored once per key")),
    request_body(description = "Rows with the source's columns: a JSON array of objects, NDJSON or CSV with a header",
                 content((Vec<Object> = "application/json"), (String = "application/x-ndjson"), (String = "text/csv"))),
    responses((status = 201, description = "Committed: the rows are durable", body = Pushed),
              (status = 200, description = "Replayed: this key's batch was already committed", body = Pushed),
              (status = 422, description = "Bad rows (every one listed); nothing stored", body = ErrorBody),
              (status = 409, description = "Idempotency key reused for another batch", body = ErrorBody),
              (status = 403, description = "Not an editor or admin token", body = ErrorBody),
              (status = 413, description = "Body larger than the server accepts", body = ErrorBody),
              (status = 415, body = ErrorBody)))]
pub(super) async fn push(
    State(state): State<AppState>,
    Extension(p): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Pushed>)> {
    p.require(Role::Editor)?;
    // A party pushes only into the sources it submits; any other source is
    // as unknown to it as one that does not exist.
    if !p.can_push_to(&id) {
        return Err(ApiError::unknown(Thing::Source, &id));
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let format = BodyFormat::from_content_type(ct).ok_or_else(|| {
        ApiError::UnsupportedMediaType(format!(
            "Content-Type `{ct}` is not accepted: use application/json (an array of objects), application/x-ndjson or text/csv"
        ))
    })?;
    let key = match headers.get("idempotency-key") {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| ApiError::BadRequest("Idempotency-Key must be visible ASCII".into()))?
                .to_string(),
        ),
        None => None,
    };
    let project = state.snapshot().project.clone();
    let source = id.clone();
    // Parsing 10k rows is CPU work: off the request threads.
    let encoded = tokio::task::spawn_blocking(move || {
        yardstick_workspace::encode_rows(&project, &source, &body, format)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("push task failed: {e}")))?;
    let (count, bytes) = encoded.map_err(|e| match e {
        PushFailure::Rejected(PushError::UnknownSource(_)) => ApiError::unknown(Thing::Source, &id),
        PushFailure::Rejected(e @ PushError::NotStored(_)) => ApiError::Conflict(e.to_string()),
        PushFailure::Rejected(PushError::BadRows(rows)) => ApiError::InvalidRows(rows),
        PushFailure::Internal(e) => ApiError::Internal(e),
    })?;
    let batch = NewBatch {
        source: &id,
        idempotency_key: key.as_deref(),
        rows: count,
        actor: &p.actor(),
        body: &bytes,
    };
    let stored = state.store().insert_batch(&batch).await?;
    state.wake();
    let status = if stored.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(Pushed {
            source: id,
            rows: stored.rows,
            batch: stored.seq,
            replayed: stored.replayed,
        }),
    ))
}
