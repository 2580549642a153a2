//! The OpenAPI document, metrics, tokens, and the router without a socket.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_metrics_and_tokens() {
    let dir = project_dir();
    let url = yardstick_store::default_url(dir.path()).expect("url");
    let s = Server::start(dir.path(), &url).await;
    let (st, doc) = s.get("/api/v1/openapi.json", &s.admin).await;
    assert_eq!(st, StatusCode::OK);
    assert!(doc["openapi"].as_str().expect("version").starts_with("3."));
    for p in [
        "/api/v1/health",
        "/api/v1/evaluations",
        "/api/v1/sources/{id}/rows",
        "/metrics",
        "/api/v1/contracts/{id}/clauses",
        "/api/v1/events",
        "/api/v1/kpis/{id}/explain",
        "/api/v1/kpis/{id}/breakdown",
        "/api/v1/kpis/{id}/forecast",
        "/api/v1/alerts",
    ] {
        assert!(
            doc["paths"].get(p).is_some(),
            "{p} missing from the OpenAPI document"
        );
    }
    let (st, m) = s.get("/metrics", &s.admin).await;
    assert_eq!(st, StatusCode::OK);
    let m = m.as_str().expect("text");
    assert!(m.contains("# TYPE yardstick_kpi_value gauge"));
    assert!(
        m.contains("yardstick_kpi_target{kpi=\"uptime\",op=\">=\"} 0.99"),
        "{m}"
    );
    // The latest complete month has no incident (January's is long past).
    let uptime = m
        .lines()
        .find(|l| l.starts_with("yardstick_kpi_value{kpi=\"uptime\","))
        .expect("an uptime value");
    assert!(uptime.ends_with(" 1") && !uptime.contains("2026-01"), "{uptime}");
    assert!(m.contains("yardstick_kpi_status{kpi=\"uptime\","), "{m}");
    assert!(m.lines().any(|l| l.starts_with("yardstick_kpi_status{kpi=\"uptime\",") && l.contains("status=\"met\"} 1")), "{m}");

    // Tokens: created by an admin, listed without secrets, revoked.
    let (st, t) = s
        .call(
            "POST",
            "/api/v1/tokens",
            &s.admin,
            Some(json!({"role": "viewer"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let secret = t["token"].as_str().expect("secret").to_string();
    assert_eq!(s.get("/api/v1/kpis", &secret).await.0, StatusCode::OK);
    let (_, list) = s.get("/api/v1/tokens", &s.admin).await;
    assert!(!list.to_string().contains(&secret));
    let (st, e) = s
        .call("POST", "/api/v1/tokens", &s.admin, Some(json!({"role": "boss"})))
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );
    let id = t["id"].as_str().expect("id");
    assert_eq!(
        s.call("DELETE", &format!("/api/v1/tokens/{id}"), &s.admin, None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(s.get("/api/v1/kpis", &secret).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(s.get("/api/v1/nowhere", &s.admin).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_answers_without_a_socket() {
    use tower::ServiceExt;
    let dir = project_dir();
    let store = Store::open(&yardstick_store::default_url(dir.path()).expect("url"))
        .await
        .expect("store");
    let state = AppState::start(dir.path(), store).await.expect("starts");
    // A body over the limit is refused before it is read, in our JSON.
    let res = yardstick_server::api::app_with(state.clone(), Duration::from_secs(5), 100)
        .oneshot(
            axum::http::Request::post("/api/v1/sources/deals/rows")
                .header("content-type", "text/csv")
                .header("content-length", "1000")
                .body(axum::body::Body::from(vec![b'x'; 1000]))
                .expect("request"),
        )
        .await
        .expect("answer");
    assert_eq!(res.status(), axum::http::StatusCode::PAYLOAD_TOO_LARGE);
    let body = axum::body::to_bytes(res.into_body(), 10_000).await.expect("body");
    let v: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(v["code"], "payload_too_large");
    let res = yardstick_server::app(state)
        .oneshot(
            axum::http::Request::get("/api/v1/health")
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await
        .expect("answer");
    assert_eq!(res.status(), axum::http::StatusCode::OK);
}

/// Requests that never reach a handler (a query string, path or body that
/// does not deserialise) answer through the same error table as the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_answer_message_and_code() {
    let dir = project_dir();
    let url = yardstick_store::default_url(dir.path()).expect("url");
    let s = Server::start(dir.path(), &url).await;
    for path in [
        "/api/v1/kpis/revenue/breakdown",
        "/api/v1/kpis/revenue/forecast?horizon=-1",
        "/api/v1/kpis/revenue/forecast?horizon=lots",
    ] {
        let (st, e) = s.get(path, &s.admin).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{path}: {e}");
        assert_eq!(e["code"], "bad_request", "{path}: {e}");
        assert!(
            e["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{path}: {e}"
        );
    }
    let (_, e) = s.get("/api/v1/kpis/revenue/breakdown", &s.admin).await;
    assert!(e["message"].as_str().is_some_and(|m| m.contains("`by`")), "{e}");
    // A period that is not a label is refused, not an empty answer.
    let (st, e) = s
        .get("/api/v1/kpis/revenue/breakdown?by=x&period=month", &s.admin)
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_period")),
        "{e}"
    );
    // A body that is not JSON, and JSON without the right fields.
    let res = s
        .http
        .post(format!("{}/api/v1/tokens", s.base))
        .bearer_auth(&s.admin)
        .body("role=viewer")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let e: Value = res.json().await.expect("a JSON error");
    assert_eq!(e["code"], "unsupported_media_type");
    let (st, e) = s
        .call("POST", "/api/v1/tokens", &s.admin, Some(json!({"party": "x"})))
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request")),
        "{e}"
    );
    let (st, e) = s
        .call("POST", "/api/v1/tokens", &s.admin, Some(json!({"role": ""})))
        .await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request")),
        "{e}"
    );
}

/// Each error's code names what is wrong, so a client can act on it
/// without reading the message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_codes_name_what_is_wrong() {
    let dir = project_dir();
    let url = yardstick_store::default_url(dir.path()).expect("url");
    let s = Server::start(dir.path(), &url).await;
    for (path, status, code) in [
        ("/api/v1/kpis/nope", StatusCode::NOT_FOUND, "unknown_kpi"),
        ("/api/v1/kpis/nope/forecast", StatusCode::NOT_FOUND, "unknown_kpi"),
        (
            "/api/v1/evaluations?kpi=nope",
            StatusCode::NOT_FOUND,
            "unknown_kpi",
        ),
        (
            "/api/v1/contracts/nope/clauses",
            StatusCode::NOT_FOUND,
            "unknown_contract",
        ),
        (
            "/api/v1/slo?contract=hosting&clause=nope",
            StatusCode::NOT_FOUND,
            "unknown_clause",
        ),
        (
            "/api/v1/scorecards/nope",
            StatusCode::NOT_FOUND,
            "unknown_scorecard",
        ),
        (
            "/api/v1/partnerships/nope",
            StatusCode::NOT_FOUND,
            "unknown_partnership",
        ),
        ("/api/v1/nope", StatusCode::NOT_FOUND, "not_found"),
        ("/api/v1/evaluations?to=soon", StatusCode::BAD_REQUEST, "bad_time"),
        (
            "/api/v1/kpis/uptime/explain?period=july",
            StatusCode::BAD_REQUEST,
            "bad_period",
        ),
        (
            "/api/v1/kpis/revenue/breakdown?by=region",
            StatusCode::BAD_REQUEST,
            "bad_dimension",
        ),
        (
            "/api/v1/kpis/revenue/forecast?entity=rep",
            StatusCode::BAD_REQUEST,
            "bad_entity",
        ),
        (
            "/api/v1/kpis/revenue/forecast?horizon=0",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/kpis/uptime/explain?period=2026-10&entity=rep=ann",
            StatusCode::BAD_REQUEST,
            "unanswerable",
        ),
    ] {
        let (st, e) = s.get(path, &s.admin).await;
        assert_eq!((st, e["code"].as_str()), (status, Some(code)), "{path}: {e}");
    }
    let (st, e) = s.call("DELETE", "/api/v1/tokens/nope", &s.admin, None).await;
    assert_eq!(
        (st, e["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_token"))
    );
    // The document lists every code as the field's values.
    let (_, doc) = s.get("/api/v1/openapi.json", &s.admin).await;
    let listed = &doc["components"]["schemas"]["ErrorBody"]["properties"]["code"]["enum"];
    for code in ["unknown_kpi", "bad_time", "bad_entity", "internal"] {
        assert!(
            listed.as_array().is_some_and(|l| l.iter().any(|c| c == code)),
            "{code}: {listed}"
        );
    }
}

/// The dashboard reads targets' bounds from the server (the engine's own
/// reading of the text), never parsing them itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn meta_gives_every_target_with_its_bounds() {
    let dir = project_dir();
    let url = yardstick_store::default_url(dir.path()).expect("url");
    let s = Server::start(dir.path(), &url).await;
    let (st, meta) = s.get("/api/v1/meta", &s.admin).await;
    assert_eq!(st, StatusCode::OK, "{meta}");
    let t = &meta["targets"];
    assert_eq!(
        t[">= 100"],
        json!({"op": ">=", "lower": 100.0, "upper": null}),
        "{t}"
    );
    assert_eq!(
        t[">= 99%"],
        json!({"op": ">=", "lower": 0.99, "upper": null}),
        "{t}"
    );
    // A party sees the targets of what is shared with it only.
    let party = s.token("viewer", Some("CloudCo")).await;
    let (_, theirs) = s.get("/api/v1/meta", &party).await;
    assert_eq!(theirs["targets"][">= 1"]["lower"], json!(1.0), "{theirs}");
    assert!(theirs["targets"][">= 100"].is_null(), "{theirs}");
}

/// The document says what the routes do: every answer a route can give,
/// its parameters where they are and with their constraints, the role
/// enum, and links from lists to items.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_complete() {
    let dir = project_dir();
    let url = yardstick_store::default_url(dir.path()).expect("url");
    let s = Server::start(dir.path(), &url).await;
    let (_, doc) = s.get("/api/v1/openapi.json", &s.admin).await;
    let paths = doc["paths"].as_object().expect("paths");
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("item") {
            let responses = op["responses"].as_object().expect("responses");
            let secured = op.get("security").is_some();
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let has = |place: &str| params.iter().any(|p| p["in"] == place);
            let mut needed = Vec::new();
            if secured {
                needed.push("401");
            }
            if has("path") {
                needed.push("404");
            }
            if has("query") || op.get("requestBody").is_some() {
                needed.push("400");
            }
            for status in needed {
                let r = &responses
                    .get(status)
                    .unwrap_or_else(|| panic!("{method} {path}: no {status}"));
                assert!(
                    r["content"]["application/json"]["schema"]["$ref"]
                        .as_str()
                        .is_some_and(|x| x.ends_with("/ErrorBody")),
                    "{method} {path} {status}: {r}"
                );
            }
            for p in &params {
                if p["in"] == "path" {
                    assert!(
                        path.contains(&format!("{{{}}}", p["name"].as_str().expect("name"))),
                        "{path}: {p}"
                    );
                }
            }
        }
    }
    let param = |path: &str, name: &str| -> Value {
        paths[path]["get"]["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == name).cloned())
            .unwrap_or_else(|| panic!("{path}: no parameter {name}"))
    };
    let from = param("/api/v1/evaluations", "from");
    assert_eq!(
        (from["in"].as_str(), from["required"].as_bool()),
        (Some("query"), Some(false)),
        "{from}"
    );
    let horizon = param("/api/v1/kpis/{id}/forecast", "horizon");
    assert_eq!(
        (
            horizon["schema"]["minimum"].as_f64(),
            horizon["schema"]["maximum"].as_f64()
        ),
        (Some(1.0), Some(1000.0))
    );
    let by = param("/api/v1/kpis/{id}/breakdown", "by");
    assert_eq!(by["required"], true);
    for path in ["/api/v1/kpis/{id}/explain", "/api/v1/kpis/{id}/breakdown"] {
        assert_eq!(
            param(path, "period")["schema"]["pattern"].as_str(),
            Some(yardstick_server::openapi::PERIOD_LABEL),
            "{path}"
        );
    }
    for path in ["/api/v1/kpis/{id}/explain", "/api/v1/kpis/{id}/forecast"] {
        assert_eq!(
            param(path, "entity")["schema"]["pattern"].as_str(),
            Some(yardstick_server::openapi::ENTITY),
            "{path}"
        );
    }
    for (path, name) in [
        ("/api/v1/slo", "contract"),
        ("/api/v1/slo", "clause"),
        ("/api/v1/kpis/{id}/breakdown", "by"),
    ] {
        assert_eq!(
            param(path, name)["schema"]["pattern"].as_str(),
            Some(yardstick_server::openapi::IDENT),
            "{path} {name}"
        );
    }
    let role = &doc["components"]["schemas"]["RoleName"];
    assert_eq!(role["enum"], json!(["admin", "editor", "viewer"]), "{role}");
    let link = &paths["/api/v1/contracts"]["get"]["responses"]["200"]["links"]["clauses"];
    assert_eq!(link["operationId"], "clauses", "{link}");
    assert_eq!(link["parameters"]["id"], "$response.body#/contracts/0/id");
    // Each link names an operation of the document.
    let ids: Vec<&Value> = paths
        .values()
        .flat_map(|i| i.as_object().expect("item").values())
        .map(|op| &op["operationId"])
        .collect();
    let links = paths
        .values()
        .flat_map(|i| i.as_object().expect("item").values())
        .flat_map(|op| op["responses"].as_object().expect("responses").values())
        .filter_map(|r| r["links"].as_object())
        .flat_map(|l| l.values());
    let mut n = 0;
    for l in links {
        assert!(ids.contains(&&l["operationId"]), "{l}");
        n += 1;
    }
    assert!(n >= 6, "{n} links");
}
