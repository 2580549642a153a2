//! The web dashboard: embedded assets and login (one-time code or token →
//! HttpOnly session cookie). What its pages read is the API (`crate::api`).
//!
//! The dashboard is plain HTML, CSS and JavaScript embedded in the binary
//! (no front-end build), with uPlot (MIT) for charts.

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::AppState;
use crate::error::ApiError;

const INDEX: &str = include_str!("../assets/index.html");
/// The dashboard's scripts: ES modules, served as they are (no build step).
const SCRIPTS: [(&str, &str); 14] = [
    ("app.js", include_str!("../assets/app.js")),
    ("api.js", include_str!("../assets/api.js")),
    ("format.js", include_str!("../assets/format.js")),
    ("state.js", include_str!("../assets/state.js")),
    ("views/login.js", include_str!("../assets/views/login.js")),
    ("views/overview.js", include_str!("../assets/views/overview.js")),
    ("views/kpi.js", include_str!("../assets/views/kpi.js")),
    ("views/why.js", include_str!("../assets/views/why.js")),
    ("views/actions.js", include_str!("../assets/views/actions.js")),
    ("views/contracts.js", include_str!("../assets/views/contracts.js")),
    ("views/terms.js", include_str!("../assets/views/terms.js")),
    ("views/agreement.js", include_str!("../assets/views/agreement.js")),
    (
        "views/reconciliations.js",
        include_str!("../assets/views/reconciliations.js"),
    ),
    (
        "views/partnerships.js",
        include_str!("../assets/views/partnerships.js"),
    ),
];
const APP_CSS: &str = include_str!("../assets/app.css");
const UPLOT_JS: &str = include_str!("../assets/vendor/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("../assets/vendor/uPlot.min.css");
const FAVICON: &str = include_str!("../assets/favicon.svg");

/// `GET /favicon.svg`: the tab icon.
pub(crate) async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "max-age=86400"),
        ],
        FAVICON,
    )
        .into_response()
}

/// The session cookie's name.
pub const COOKIE: &str = "ys_session";

pub(crate) async fn index() -> impl IntoResponse {
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        Html(INDEX),
    )
}

pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    let script = SCRIPTS.iter().find(|(n, _)| *n == name);
    let (body, ct) = match (script, name.as_str()) {
        (Some((_, js)), _) => (*js, "text/javascript; charset=utf-8"),
        (None, "app.css") => (APP_CSS, "text/css; charset=utf-8"),
        (None, "uPlot.js") => (UPLOT_JS, "text/javascript; charset=utf-8"),
        (None, "uPlot.css") => (UPLOT_CSS, "text/css; charset=utf-8"),
        _ => return ApiError::NotFound(format!("no asset `{name}`")).into_response(),
    };
    (
        [(header::CONTENT_TYPE, ct), (header::CACHE_CONTROL, "no-cache")],
        body,
    )
        .into_response()
}

fn session_cookie(id: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/"))
        .unwrap_or_else(|_| HeaderValue::from_static("ys_session=; Path=/"))
}

/// The session id in a request's cookies.
pub(crate) fn session_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginQuery {
    token: Option<String>,
}

/// `GET /login?token=…`: the URL `serve` prints. Exchanges the code (or a
/// token) for a session cookie and goes to the dashboard; without a token,
/// or with a bad one, the dashboard shows its login form.
pub(crate) async fn login_get(State(state): State<AppState>, Query(q): Query<LoginQuery>) -> Response {
    let Some(secret) = q.token else {
        return Redirect::to("/#/login").into_response();
    };
    match state.login(secret.trim()).await {
        Ok(Some(session)) => {
            let mut res = Redirect::to("/#/").into_response();
            res.headers_mut()
                .insert(header::SET_COOKIE, session_cookie(&session));
            res
        }
        Ok(None) => Redirect::to("/#/login?failed=1").into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    token: String,
}

/// `POST /login` (a form with `token`): as `GET /login?token=…`, answering
/// 204 with the cookie, or 401.
pub(crate) async fn login_post(State(state): State<AppState>, Form(f): Form<LoginForm>) -> Response {
    match state.login(f.token.trim()).await {
        Ok(Some(session)) => {
            let mut res = StatusCode::NO_CONTENT.into_response();
            res.headers_mut()
                .insert(header::SET_COOKIE, session_cookie(&session));
            res
        }
        Ok(None) => ApiError::InvalidToken.into_response(),
        Err(e) => e.into_response(),
    }
}

/// `POST /logout`.
pub(crate) async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(s) = session_of(&headers) {
        state.logout(&s);
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("ys_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    res
}
