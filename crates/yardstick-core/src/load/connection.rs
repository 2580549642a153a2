//! `[connection.ID]`: a database that sources read from.
//!
//! The URL can carry a password, so it never sits in the definitions: the
//! connection names the environment variable that holds it (`url_env`).

use super::*;

pub(super) fn read_connection(cx: &mut Cx<'_>, tab: &Tab<'_>, id: Located<String>) -> Option<Connection> {
    tab.known_keys(cx, &["kind", "url_env", "url", "description"]);
    if tab.has("url") {
        let loc = tab.key_loc(cx, "url");
        cx.error(
            "secret-in-definitions",
            "a connection's URL may carry a password, so it is never written in the definitions",
            &loc,
        )
        .hint = Some(format!(
            "put it in an environment variable and name that: url_env = \"{}_URL\"",
            id.value.to_ascii_uppercase()
        ));
    }
    let kind = if tab.has("kind") {
        tab.choice(cx, "kind", &ConnectionKind::NAMES)?.value
    } else {
        ConnectionKind::Postgres
    };
    let Some(url_env) = tab.string(cx, "url_env") else {
        if !tab.has("url_env") {
            cx.error(
                "missing-key",
                format!(
                    "connection `{}` needs `url_env`: the environment variable that holds its URL",
                    id.value
                ),
                &id.loc,
            )
            .hint = Some(format!(
                "url_env = \"{}_URL\", with e.g. {}_URL=postgres://user:password@host:5432/db",
                id.value.to_ascii_uppercase(),
                id.value.to_ascii_uppercase()
            ));
        }
        return None;
    };
    let valid = !url_env.value.is_empty()
        && url_env
            .value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !url_env.value.starts_with(|c: char| c.is_ascii_digit());
    if !valid {
        cx.error(
            "bad-value",
            format!("`{}` is not an environment variable name", url_env.value),
            &url_env.loc,
        )
        .hint = Some("use letters, digits and _, e.g. \"PG_URL\"".into());
        return None;
    }
    Some(Connection {
        id,
        kind,
        url_env,
        description: tab.text(cx, "description"),
    })
}
