//! `/api/v1/agreements`: terms, fingerprints and signatures over the API,
//! on every store back-end — a party's token signs only as its own party
//! and only what is shared with it; an organisation admin records a
//! party's signature; every route answers by the error table.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn parties_sign_only_for_themselves_and_only_what_they_see() {
    let dir = project_dir();
    for url in store_urls(dir.path()).await {
        let s = Server::start(dir.path(), &url).await;
        let (st, all) = s.get("/api/v1/agreements", &s.admin).await;
        assert_eq!(st, StatusCode::OK, "{all}");
        let ids: Vec<&str> = all["agreements"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|a| a["id"].as_str())
            .collect();
        assert!(ids.contains(&"hosting") && ids.contains(&"cloudco"), "{ids:?}");
        let (_, hosting) = s.get("/api/v1/agreements/hosting", &s.admin).await;
        assert_eq!(hosting["parties"], json!(["Us", "Acme"]));
        assert_eq!(hosting["agreed"], json!(false));
        let fingerprint = hosting["fingerprint"].clone();
        let (_, rows) = s.get("/api/v1/contracts/hosting/clauses", &s.admin).await;
        assert_eq!(rows["terms"]["unsigned_terms"], json!(true), "{}", rows["terms"]);

        // Acme's editor token: sees and signs the hosting contract as Acme.
        let acme = s.token("editor", Some("Acme")).await;
        let (_, mine) = s.get("/api/v1/agreements", &acme).await;
        let ids: Vec<&str> = mine["agreements"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|a| a["id"].as_str())
            .collect();
        assert_eq!(ids, ["hosting"]);
        let (st, signed) = s
            .call("POST", "/api/v1/agreements/hosting/sign", &acme, Some(json!({})))
            .await;
        assert_eq!(st, StatusCode::OK, "{url}: {signed}");
        assert_eq!(signed["signed"], json!(["Acme"]));
        assert_eq!(signed["signatures"][0]["fingerprint"], fingerprint);
        // Not as another party, not what it does not see.
        let (st, e) = s
            .call(
                "POST",
                "/api/v1/agreements/hosting/sign",
                &acme,
                Some(json!({"as": "Us"})),
            )
            .await;
        assert_eq!(
            (st, e["code"].clone()),
            (StatusCode::FORBIDDEN, json!("forbidden")),
            "{e}"
        );
        let (st, e) = s
            .call("POST", "/api/v1/agreements/cloudco/sign", &acme, Some(json!({})))
            .await;
        assert_eq!(
            (st, e["code"].clone()),
            (StatusCode::NOT_FOUND, json!("unknown_agreement")),
            "{e}"
        );
        let (st, _) = s.get("/api/v1/agreements/cloudco", &acme).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        // A viewer of Acme does not sign.
        let viewer = s.token("viewer", Some("Acme")).await;
        let (st, _) = s
            .call(
                "POST",
                "/api/v1/agreements/hosting/sign",
                &viewer,
                Some(json!({})),
            )
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);

        // The organisation: an admin records our signature; it must name
        // a party of the agreement; an editor may not.
        let (st, e) = s
            .call(
                "POST",
                "/api/v1/agreements/hosting/sign",
                &s.admin,
                Some(json!({})),
            )
            .await;
        assert_eq!(
            (st, e["code"].clone()),
            (StatusCode::BAD_REQUEST, json!("bad_request")),
            "{e}"
        );
        let (st, e) = s
            .call(
                "POST",
                "/api/v1/agreements/hosting/sign",
                &s.admin,
                Some(json!({"as": "Mallory"})),
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
        assert!(
            e["message"]
                .as_str()
                .is_some_and(|m| m.contains("not a party to `hosting`")),
            "{e}"
        );
        let editor = s.token("editor", None).await;
        let (st, _) = s
            .call(
                "POST",
                "/api/v1/agreements/hosting/sign",
                &editor,
                Some(json!({"as": "Us"})),
            )
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, both) = s
            .call(
                "POST",
                "/api/v1/agreements/hosting/sign",
                &s.admin,
                Some(json!({"as": "Us"})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{both}");
        assert_eq!(
            (both["agreed"].clone(), both["unsigned"].clone()),
            (json!(true), json!([]))
        );
        // The clause rows say they are judged on signed terms now.
        let (_, rows) = s.get("/api/v1/contracts/hosting/clauses", &s.admin).await;
        assert_eq!(rows["terms"]["unsigned_terms"], json!(false), "{}", rows["terms"]);
        assert_eq!(rows["terms"]["fingerprint"], fingerprint);
        let (st, e) = s.get("/api/v1/agreements/nope", &s.admin).await;
        assert_eq!(
            (st, e["code"].clone()),
            (StatusCode::NOT_FOUND, json!("unknown_agreement"))
        );

        // Both signatures are in the audit log, with the token that wrote them.
        let (_, audit) = s.get("/api/v1/audit", &s.admin).await;
        let signed: Vec<String> = audit
            .as_array()
            .or_else(|| audit["audit"].as_array())
            .expect("audit entries")
            .iter()
            .filter(|e| e["action"] == "agreement.sign")
            .map(|e| format!("{} {}", e["actor"], e["detail"]))
            .collect();
        assert_eq!(signed.len(), 2, "{signed:?}");
        assert!(
            signed
                .iter()
                .any(|x| x.contains("party:Acme") && x.contains("signed by Acme")),
            "{signed:?}"
        );
    }
}

/// The contracts page says whether its results are judged on signed terms.
#[tokio::test(flavor = "multi_thread")]
async fn the_contracts_page_shows_unsigned_terms() {
    let Some(b) = super::dashboard::Browser::start().await else {
        return;
    };
    let dir = project_dir();
    let url = yardstick_store::default_url(dir.path()).expect("url");
    let s = Server::start(dir.path(), &url).await;
    b.login(&s.base, &s.admin).await;
    let c = &b.client;
    c.goto(&format!("{}/#/contracts", s.base)).await.expect("open");
    let note = b
        .until_text(
            "the terms' note",
            "document.querySelector('[data-contract] .terms-note')?.innerText",
        )
        .await;
    assert!(
        note.starts_with("Unsigned terms:") && note.contains("no party has signed them"),
        "{note}"
    );
    for (name, w, h) in [("desktop", 1400, 900), ("phone", 390, 1400)] {
        c.set_window_size(w, h).await.expect("size");
        b.shot(&format!("contracts-unsigned-{name}")).await;
    }
    // The admin records our signature from the card; Acme signs with its own token.
    c.execute(
        "document.querySelector('[data-contract] button.sign[data-as=\"Us\"]').click()",
        vec![],
    )
    .await
    .expect("sign as Us");
    let note = b
        .until_text(
            "Acme still to sign",
            "(document.querySelector('[data-contract] .terms-note')?.innerText ?? '').includes('Acme has not signed') && document.querySelector('[data-contract] .terms-note').innerText",
        )
        .await;
    assert!(note.contains("Acme has not signed them"), "{note}");
    let (st, _) = s
        .call(
            "POST",
            "/api/v1/agreements/hosting/sign",
            &s.token("editor", Some("Acme")).await,
            Some(json!({})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    c.refresh().await.expect("reload");
    let note = b
        .until_text(
            "the signed note",
            "(document.querySelector('[data-contract] .terms-note')?.innerText ?? '').startsWith('Judged') && document.querySelector('[data-contract] .terms-note').innerText",
        )
        .await;
    assert!(
        note.starts_with("Judged on terms every party signed (sha256:"),
        "{note}"
    );
    // A partnership's page says the same of its terms.
    c.goto(&format!("{}/#/partnership/cloudco", s.base))
        .await
        .expect("open");
    let note = b
        .until_text(
            "the partnership's terms",
            "document.querySelector('h1')?.innerText === 'cloudco' && document.querySelector('.terms-note')?.innerText",
        )
        .await;
    assert!(note.starts_with("Unsigned terms:"), "{note}");
    assert!(
        b.until_text("its sign links", "document.querySelector('.sign-row')?.innerText")
            .await
            .contains("signed by CloudCo")
    );
    b.shot("partnership-unsigned-desktop").await;
    b.close().await;
}

/// Renegotiation over the API on every back-end: a party proposes as
/// itself, only another party accepts (the organisation's admin for a
/// named party), a decided proposal stays decided, and the acceptance
/// carries the amendment as a patch of the definitions.
#[tokio::test(flavor = "multi_thread")]
async fn only_another_party_accepts_a_proposal() {
    let dir = project_dir();
    for url in store_urls(dir.path()).await {
        let s = Server::start(dir.path(), &url).await;
        let acme = s.token("editor", Some("Acme")).await;
        let next = {
            use chrono::Datelike;
            let d = chrono::Utc::now().date_naive();
            let (y, m) = if d.month() == 12 {
                (d.year() + 1, 1)
            } else {
                (d.year(), d.month() + 1)
            };
            format!("{y}-{m:02}")
        };
        let body = |from: &str| json!({"clause": "uptime", "target": ">= 98%", "from": from, "reason": "the January outage"});
        // Not a period already judged.
        let (st, e) = s
            .call(
                "POST",
                "/api/v1/agreements/hosting/proposals",
                &acme,
                Some(body("2026-01")),
            )
            .await;
        assert_eq!(
            (st, e["code"].clone()),
            (StatusCode::BAD_REQUEST, json!("bad_request")),
            "{e}"
        );
        assert!(
            e["message"].as_str().is_some_and(|m| m.contains("in the past")),
            "{e}"
        );
        // Not as another party.
        let mut as_us = body(&next);
        as_us["as"] = json!("Us");
        let (st, _) = s
            .call("POST", "/api/v1/agreements/hosting/proposals", &acme, Some(as_us))
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        let (st, made) = s
            .call(
                "POST",
                "/api/v1/agreements/hosting/proposals",
                &acme,
                Some(body(&next)),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{url}: {made}");
        assert_eq!(
            (made["party"].clone(), made["status"].clone()),
            (json!("Acme"), json!("open"))
        );
        let n = made["id"].as_i64().expect("number");
        let accept = format!("/api/v1/proposals/{n}/accept");
        let reject = format!("/api/v1/proposals/{n}/reject");

        // Acme does not accept its own; a party that does not see the
        // contract does not see the proposal; a viewer decides nothing.
        let (st, e) = s.call("POST", &accept, &acme, Some(json!({}))).await;
        assert_eq!(
            (st, e["code"].clone()),
            (StatusCode::FORBIDDEN, json!("forbidden")),
            "{e}"
        );
        let cloudco = s.token("editor", Some("CloudCo")).await;
        let (st, e) = s.call("POST", &accept, &cloudco, Some(json!({}))).await;
        assert_eq!(
            (st, e["code"].clone()),
            (StatusCode::NOT_FOUND, json!("unknown_proposal")),
            "{e}"
        );
        let viewer = s.token("viewer", Some("Acme")).await;
        let (st, _) = s
            .call("POST", &reject, &viewer, Some(json!({"comment": "no"})))
            .await;
        assert_eq!(st, StatusCode::FORBIDDEN);
        // The organisation decides as a named party, never as the proposer.
        let (st, e) = s
            .call("POST", &accept, &s.admin, Some(json!({"as": "Acme"})))
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
        let (st, e) = s.call("POST", &reject, &s.admin, Some(json!({"as": "Us"}))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "a rejection needs a comment: {e}");
        let (st, done) = s
            .call(
                "POST",
                &accept,
                &s.admin,
                Some(json!({"as": "Us", "comment": "fair"})),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{done}");
        assert_eq!(
            (done["status"].clone(), done["decided_party"].clone()),
            (json!("accepted"), json!("Us"))
        );
        let patch = done["amendment"]["patch"].as_str().expect("a patch");
        assert!(
            patch.contains("+targets = [")
                && patch.contains("{ from = \"2026-01-01\", target = \">= 99%\" }")
                && patch.contains(&format!(
                    "{{ from = \"{next}-01\", target = \">= 98%\", note = \"proposal #{n} by Acme"
                )),
            "{patch}"
        );
        let (st, e) = s
            .call("POST", &reject, &acme, Some(json!({"comment": "too late"})))
            .await;
        assert_eq!(
            (st, e["code"].clone()),
            (StatusCode::CONFLICT, json!("conflict")),
            "{e}"
        );
        let (st, e) = s
            .call(
                "POST",
                "/api/v1/proposals/9999/accept",
                &s.admin,
                Some(json!({"as": "Us"})),
            )
            .await;
        assert_eq!(
            (st, e["code"].clone()),
            (StatusCode::NOT_FOUND, json!("unknown_proposal")),
            "{e}"
        );

        // The agreement lists it, accepted and not yet in the definitions.
        let (_, a) = s.get("/api/v1/agreements/hosting", &acme).await;
        assert_eq!(a["proposals"][0]["id"], json!(n));
        assert_eq!(a["proposals"][0]["written"], json!(false));
        assert!(a["proposals"][0]["amendment"]["patch"].is_string(), "{a}");
        assert_eq!(a["versions"], json!([]));
        let (_, audit) = s.get("/api/v1/audit", &s.admin).await;
        let actions: Vec<&str> = audit
            .as_array()
            .or_else(|| audit["audit"].as_array())
            .expect("audit entries")
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        assert!(
            actions.contains(&"agreement.propose") && actions.contains(&"agreement.accept"),
            "{actions:?}"
        );
    }
}

/// The contract's agreement page: proposing from the form (the
/// organisation's admin for Acme), the proposal open and awaiting the
/// other party, accepting it as that party, and the amendment to commit.
#[tokio::test(flavor = "multi_thread")]
async fn the_agreement_page_proposes_and_accepts() {
    let Some(b) = super::dashboard::Browser::start().await else {
        return;
    };
    let dir = project_dir();
    let url = yardstick_store::default_url(dir.path()).expect("url");
    let s = Server::start(dir.path(), &url).await;
    b.login(&s.base, &s.admin).await;
    let c = &b.client;
    // The overview links the last ended quarter's board pack.
    let pack = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(document.querySelector('.review-links a').href).then((r) => r.text()).then(done);",
            vec![],
        )
        .await
        .expect("fetch the review");
    assert!(
        pack.as_str()
            .is_some_and(|h| h.starts_with("<!doctype html>") && h.contains(": review of ")),
        "{pack}"
    );
    // From the contract's card.
    c.goto(&format!("{}/#/contracts", s.base)).await.expect("open");
    b.until(
        "the agreement link",
        "document.querySelector('[data-contract] a.agreement-link')",
    )
    .await;
    c.execute(
        "document.querySelector('[data-contract] a.agreement-link').click()",
        vec![],
    )
    .await
    .expect("follow the link");
    let title = b
        .until_text(
            "the agreement page",
            "document.querySelector('h1[data-agreement]')?.innerText",
        )
        .await;
    assert_eq!(title, "Agreement: hosting");
    assert!(
        b.until_text("no proposal yet", "document.querySelector('main')?.innerText")
            .await
            .contains("No party has signed any version yet.")
    );
    let next = {
        use chrono::Datelike;
        let d = chrono::Utc::now().date_naive();
        let (y, m) = if d.month() == 12 {
            (d.year() + 1, 1)
        } else {
            (d.year(), d.month() + 1)
        };
        format!("{y}-{m:02}")
    };
    c.execute(
        "const f = document.querySelector('form.propose');
         f.target.value = '>= 98%'; f.from.value = arguments[0];
         f.reason.value = 'the January outage was a one-off'; f.as.value = 'Acme';
         f.querySelector('button[type=submit]').click();",
        vec![json!(next)],
    )
    .await
    .expect("propose");
    let notice = b
        .until_text(
            "the proposal recorded",
            "document.querySelector('.banner.proposed')?.innerText",
        )
        .await;
    assert!(notice.starts_with("Proposal #1 recorded."), "{notice}");
    let open = b
        .until_text(
            "the open proposal",
            "document.querySelector('li.proposal[data-status=open]')?.innerText",
        )
        .await;
    assert!(
        open.contains("#1 Acme proposes clause uptime: target >= 98% from")
            && open.contains("the January outage was a one-off"),
        "{open}"
    );
    for (name, w, h) in [("desktop", 1400, 1000), ("phone", 390, 1500)] {
        c.set_window_size(w, h).await.expect("size");
        b.shot(&format!("agreement-open-{name}")).await;
    }
    // The appendix link serves the document to the signed-in browser.
    let html = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(document.querySelector('.appendix-links a').href).then((r) => r.text()).then(done);",
            vec![],
        )
        .await
        .expect("fetch the appendix");
    assert!(
        html.as_str()
            .is_some_and(|h| h.contains("<h1>KPI appendix: hosting</h1>")),
        "{html}"
    );
    // The admin decides for Us (the other party), with a comment.
    c.execute(
        "const d = document.querySelector('li.proposal[data-status=open] .decide');
         d.querySelector('.decide-comment').value = 'fair, from next month';
         d.querySelector('button.accept').click();",
        vec![],
    )
    .await
    .expect("accept");
    let done = b
        .until_text(
            "the accepted proposal",
            "document.querySelector('li.proposal[data-status=accepted]')?.innerText",
        )
        .await;
    assert!(done.contains("accepted by Us: “fair, from next month”"), "{done}");
    c.execute("document.querySelector('details.amendment').open = true", vec![])
        .await
        .expect("open the amendment");
    let patch = b
        .until_text(
            "the amendment",
            "document.querySelector('details.amendment pre')?.innerText",
        )
        .await;
    assert!(patch.contains("+targets = ["), "{patch}");
    for (name, w, h) in [("desktop", 1400, 1000), ("phone", 390, 1500)] {
        c.set_window_size(w, h).await.expect("size");
        b.shot(&format!("agreement-accepted-{name}")).await;
    }
    b.close().await;
}

/// The appendix over the API: each format with its media type, for the
/// parties that see the agreement only.
#[tokio::test(flavor = "multi_thread")]
async fn the_appendix_is_served_in_each_format_to_those_who_see_it() {
    let dir = project_dir();
    let url = yardstick_store::default_url(dir.path()).expect("url");
    let s = Server::start(dir.path(), &url).await;
    let acme = s.token("viewer", Some("Acme")).await;
    for (format, mime, starts) in [
        ("pdf", "application/pdf", "%PDF-"),
        ("html", "text/html; charset=utf-8", "<!doctype html>"),
        ("md", "text/markdown; charset=utf-8", "# KPI appendix: hosting"),
    ] {
        let res = s
            .http
            .get(format!(
                "{}/api/v1/agreements/hosting/appendix?format={format}",
                s.base
            ))
            .bearer_auth(&acme)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::OK, "{format}");
        assert_eq!(res.headers()[reqwest::header::CONTENT_TYPE], mime);
        let body = res.bytes().await.expect("body");
        assert!(
            body.starts_with(starts.as_bytes()),
            "{format}: {}",
            String::from_utf8_lossy(&body[..40.min(body.len())])
        );
        if format == "md" {
            let text = String::from_utf8_lossy(&body);
            assert!(text.contains("### Clause `uptime`: KPI `uptime`"), "{text}");
            assert!(
                text.contains("A service credit of 10% of that period's fee."),
                "{text}"
            );
        }
    }
    let cloudco = s.token("viewer", Some("CloudCo")).await;
    let (st, e) = s.get("/api/v1/agreements/hosting/appendix", &cloudco).await;
    assert_eq!(
        (st, e["code"].clone()),
        (StatusCode::NOT_FOUND, json!("unknown_agreement"))
    );
    let (st, e) = s
        .get("/api/v1/agreements/hosting/appendix?format=docx", &s.admin)
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
}

/// A review over the API: each format with its media type; a party's
/// token gets its own pack, and a scope outside it does not exist for it.
#[tokio::test(flavor = "multi_thread")]
async fn reviews_are_served_in_each_format_and_party_packs_hold_their_own() {
    let dir = project_dir();
    let url = yardstick_store::default_url(dir.path()).expect("url");
    let s = Server::start(dir.path(), &url).await;
    for (format, mime) in [
        ("html", "text/html; charset=utf-8"),
        ("md", "text/markdown; charset=utf-8"),
        ("pdf", "application/pdf"),
        (
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        ("json", "application/json"),
    ] {
        let res = s
            .http
            .get(format!(
                "{}/api/v1/reviews?period=2026-01&format={format}",
                s.base
            ))
            .bearer_auth(&s.admin)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::OK, "{format}");
        assert_eq!(res.headers()[reqwest::header::CONTENT_TYPE], mime, "{format}");
    }
    let (_, all) = s
        .get("/api/v1/reviews?period=2026-01&format=json", &s.admin)
        .await;
    let ids = |v: &Value| -> Vec<String> {
        v["kpis"]
            .as_array()
            .expect("kpis")
            .iter()
            .filter_map(|k| k["id"].as_str().map(str::to_string))
            .collect()
    };
    assert!(ids(&all).contains(&"revenue".to_string()), "{all}");
    let acme = s.token("viewer", Some("Acme")).await;
    let (st, mine) = s.get("/api/v1/reviews?period=2026-01&format=json", &acme).await;
    assert_eq!(st, StatusCode::OK, "{mine}");
    assert_eq!(
        ids(&mine),
        ["uptime"],
        "Acme sees the KPI its contract is judged on, nothing else"
    );
    let (st, e) = s
        .get("/api/v1/reviews?period=2026-01&scope=partnership:cloudco", &acme)
        .await;
    assert_eq!(
        (st, e["code"].clone()),
        (StatusCode::NOT_FOUND, json!("not_found")),
        "{e}"
    );
    let (st, e) = s.get("/api/v1/reviews?period=Q9", &s.admin).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
}
