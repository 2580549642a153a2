//! What the OpenAPI document says beyond each route's own annotation: the
//! bearer scheme, the error answers every route shares, and the links from
//! lists to the routes of their items (so a client, or schemathesis's
//! stateful phase, can walk from `/contracts` to `/contracts/{id}/clauses`).
//!
//! The document must stay true: `.ci/run` runs schemathesis against it with
//! all its checks.

use utoipa::Modify;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};

/// The period label of every grain: `2026`, `2026-Q4`, `2026-H2`,
/// `2026-W42`, `2026-10`, `2026-10-14`, `FY2027`, `FY2027-Q1`.
pub const PERIOD_LABEL: &str = r"^(FY[0-9]{4}(-Q[1-4])?|[0-9]{4}(-(Q[1-4]|H[12]|W(0[1-9]|[1-4][0-9]|5[0-3])|(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?))?)$";

/// `col=value[,col=value]` (empty parts are skipped).
pub const ENTITY: &str = r"^([^,]*=[^,]*)?(,([^,]*=[^,]*)?)*$";

/// An identifier of the language (KPI, dimension, contract, clause…).
pub const IDENT: &str = r"^[A-Za-z_][A-Za-z0-9_-]*$";

/// `Authorization: Bearer ys_…`.
pub(crate) struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// The error answers each route can give, from what it takes: a token
/// (401), a path id (404), query parameters or a body (400). Answers only
/// some routes give (403, 409, 415, 422) are on those routes.
pub(crate) struct ErrorAnswers;

impl Modify for ErrorAnswers {
    fn modify(&self, openapi: &mut OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                add_error_answers(op);
            }
        }
    }
}

fn add_error_answers(op: &mut Operation) {
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    let params = op.parameters.as_deref().unwrap_or_default();
    let has = |place: ParameterIn| params.iter().any(|p| p.parameter_in == place);
    let mut answers = Vec::new();
    if secured {
        answers.push(("401", "No bearer token, or an unknown or revoked one"));
    }
    if has(ParameterIn::Path) {
        answers.push(("404", "No such id, or one not shared with this token's party"));
    }
    if has(ParameterIn::Query) || op.request_body.is_some() {
        answers.push((
            "400",
            "A parameter or body that is not valid: the message says which",
        ));
    }
    for (status, description) in answers {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| error_response(description));
    }
}

fn error_response(description: &str) -> RefOr<Response> {
    let mut r = Response::new(description);
    r.content.insert(
        "application/json".into(),
        Content::new(Some(RefOr::Ref(Ref::from_schema_name("ErrorBody")))),
    );
    RefOr::T(r)
}

/// The document as served. utoipa 5.5 writes a link's fields in snake
/// case (`operation_id`); OpenAPI spells them `operationId`,
/// `operationRef` and `requestBody`.
pub fn document(doc: OpenApi) -> serde_json::Value {
    let mut v = serde_json::to_value(doc).unwrap_or_default();
    // The error codes a client can act on.
    if let Some(code) = v.pointer_mut("/components/schemas/ErrorBody/properties/code") {
        code["enum"] = serde_json::json!(crate::error::CODES);
    }
    if let Some(paths) = v.get_mut("paths").and_then(|p| p.as_object_mut()) {
        // Operations are tagged with the module that serves them, one per
        // resource (`kpis`, `tokens`, …): drop the `crate::` of `metrics`.
        let tags = paths
            .values_mut()
            .filter_map(|item| item.as_object_mut())
            .flat_map(|item| item.values_mut())
            .filter_map(|op| op.get_mut("tags").and_then(|t| t.as_array_mut()))
            .flat_map(|t| t.iter_mut());
        for tag in tags {
            if let Some(short) = tag.as_str().and_then(|t| t.strip_prefix("crate::")) {
                *tag = short.into();
            }
        }
        let responses = paths
            .values_mut()
            .filter_map(|item| item.as_object_mut())
            .flat_map(|item| item.values_mut())
            .filter_map(|op| op.get_mut("responses").and_then(|r| r.as_object_mut()))
            .flat_map(|r| r.values_mut());
        for response in responses {
            let links = response.get_mut("links").and_then(|l| l.as_object_mut());
            for link in links.into_iter().flat_map(|l| l.values_mut()) {
                let Some(link) = link.as_object_mut() else {
                    continue;
                };
                for (snake, camel) in [
                    ("operation_id", "operationId"),
                    ("operation_ref", "operationRef"),
                    ("request_body", "requestBody"),
                ] {
                    if let Some(x) = link.remove(snake) {
                        link.insert(camel.into(), x);
                    }
                }
            }
        }
    }
    v
}

/// Links from a list (or a created item) to the route of one item.
pub(crate) struct ItemLinks;

/// (route of the list, status, link name, operation id, path parameter,
/// where the id is in the list's answer).
const LINKS: &[(&str, &str, &str, &str, &str, &str)] = &[
    ("/api/v1/kpis", "200", "kpi", "kpi", "id", "$response.body#/0/id"),
    (
        "/api/v1/kpis",
        "200",
        "forecast",
        "forecast",
        "id",
        "$response.body#/0/id",
    ),
    (
        "/api/v1/contracts",
        "200",
        "clauses",
        "clauses",
        "id",
        "$response.body#/contracts/0/id",
    ),
    (
        "/api/v1/scorecards",
        "200",
        "scorecard",
        "scorecard",
        "id",
        "$response.body#/scorecards/0/id",
    ),
    (
        "/api/v1/partnerships",
        "200",
        "partnership",
        "partnership",
        "id",
        "$response.body#/partnerships/0/id",
    ),
    (
        "/api/v1/reconciliations",
        "200",
        "reconciliation",
        "reconciliation",
        "id",
        "$response.body#/reconciliations/0/id",
    ),
    (
        "/api/v1/reconciliations",
        "200",
        "resolve",
        "resolve",
        "id",
        "$response.body#/reconciliations/0/id",
    ),
    (
        "/api/v1/tokens",
        "201",
        "revoke",
        "revoke_token",
        "id",
        "$response.body#/id",
    ),
];

impl Modify for ItemLinks {
    fn modify(&self, openapi: &mut OpenApi) {
        for &(path, status, name, operation, param, expr) in LINKS {
            let Some(item) = openapi.paths.paths.get_mut(path) else {
                continue;
            };
            let op = if status == "201" {
                &mut item.post
            } else {
                &mut item.get
            };
            let Some(RefOr::T(response)) = op.as_mut().and_then(|o| o.responses.responses.get_mut(status))
            else {
                continue;
            };
            let link = LinkBuilder::new()
                .operation_id(operation)
                .parameter(param, expr)
                .build();
            response.links.insert(name.to_string(), RefOr::T(link));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, s: &str) -> bool {
        regex::Regex::new(pattern).is_ok_and(|r| r.is_match(s))
    }

    #[test]
    fn the_period_pattern_takes_every_label_the_calendar_writes() {
        for ok in [
            "2026",
            "2026-Q4",
            "2026-H2",
            "2026-W01",
            "2026-W53",
            "2026-10",
            "2026-10-14",
            "FY2027",
            "FY2027-Q1",
        ] {
            assert!(matches(PERIOD_LABEL, ok), "{ok}");
        }
        for bad in [
            "month",
            "2026-13",
            "2026-Q5",
            "2026-W54",
            "26-10",
            "2026-10-32",
            "",
        ] {
            assert!(!matches(PERIOD_LABEL, bad), "{bad}");
        }
    }

    #[test]
    fn the_entity_pattern_takes_pairs() {
        assert!(matches(ENTITY, "region=EU"));
        assert!(matches(ENTITY, "region=EU,rep=ana"));
        assert!(matches(ENTITY, "region=EU,"));
        assert!(!matches(ENTITY, "EU"));
        assert!(!matches(ENTITY, "region=EU,north"));
    }
}
