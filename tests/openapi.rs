//! The API keeps its own contract: the document served at `/openapi.json` resolves every
//! reference inside itself, names exactly the routes the router serves, and each documented
//! operation is served at its method. (`.ci/run` also validates the document with
//! openapi-spec-validator and drives it with schemathesis.)

mod common;

use common::on_each_store;
use common::world::{Options, World, OPERATOR_TOKEN};
use serde_json::Value;
use std::collections::BTreeSet;

/// The value a JSON pointer (`#/components/schemas/Event`) names, if any.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    doc.pointer(&pointer.replace("~1", "/").replace("~0", "~"))
}

fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            for (key, v) in object {
                match v {
                    Value::String(target) if key == "$ref" => out.push(target.clone()),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// (method, path) of every route in `src/api/mod.rs`'s router, read from its source: each
/// `.route("PATH", get(...).post(...))`, path parameters as `{name}` like OpenAPI writes them.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/api/mod.rs"))
        .expect("src/api/mod.rs");
    let mut routes = BTreeSet::new();
    for call in source.split(".route(\"").skip(1) {
        let (path, rest) = call.split_once('"').expect("a quoted path");
        // The method router is the rest of the call, up to the `)` that closes `.route(`.
        let mut depth = 1;
        let end = rest
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .map(|(i, _)| i)
            .expect("a closed .route( call");
        let methods = &rest[..end];
        for method in ["get", "post", "put", "patch", "delete"] {
            let called = methods.contains(&format!(" {method}(",))
                || methods.contains(&format!(",{method}("))
                || methods.contains(&format!(".{method}("));
            if called {
                routes.insert((method.to_owned(), path.to_owned()));
            }
        }
    }
    assert!(
        routes.len() >= 10,
        "routes not found in src/api/mod.rs: {routes:?}"
    );
    routes
}

#[tokio::test]
async fn the_served_document_resolves_and_matches_the_routes() {
    on_each_store("openapi_document", |db| async move {
        let world = World::start(db, Options::default()).await;
        let client = reqwest::Client::new();
        let doc: Value = client
            .get(world.url("/openapi.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();

        // OpenAPI 3.1, every $ref resolvable inside the document.
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
        assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(found.len() > 10);
        for reference in &found {
            assert!(
                resolve(&doc, reference).is_some(),
                "$ref {reference} does not resolve in the document"
            );
        }
        // The event is the ledger schema itself, not a placeholder.
        let event = &doc["components"]["schemas"]["Event"];
        assert_eq!(event["type"], "object", "{event}");
        assert!(event["required"]
            .as_array()
            .unwrap()
            .contains(&"event_id".into()));

        // The same operations in the document and in the router.
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                assert!(
                    operation["responses"]
                        .as_object()
                        .is_some_and(|r| !r.is_empty()),
                    "{method} {path} documents no response"
                );
                documented.insert((method.clone(), path.clone()));
            }
        }
        let served = routes_in_source();
        assert_eq!(
            documented.difference(&served).collect::<Vec<_>>(),
            Vec::<&(String, String)>::new(),
            "documented but not routed"
        );
        assert_eq!(
            served.difference(&documented).collect::<Vec<_>>(),
            Vec::<&(String, String)>::new(),
            "routed but not documented"
        );

        // Each documented operation is served at its method: never the router's own 404 or
        // 405 answer, whatever the handler makes of an empty request.
        for (method, path) in &documented {
            let concrete = path
                .split('/')
                .map(|part| if part.starts_with('{') { "1" } else { part })
                .collect::<Vec<_>>()
                .join("/");
            let request = match method.as_str() {
                "get" => client.get(world.url(&concrete)),
                "post" => client.post(world.url(&concrete)).body("{}"),
                other => panic!("method {other} not exercised"),
            };
            let response = request.bearer_auth(OPERATOR_TOKEN).send().await.unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            let fallback =
                body.contains("\"not_found\"") && body.contains("no endpoint") || status == 405;
            assert!(!fallback, "{method} {path} is not routed: {status} {body}");
        }
        world.finish().await
    })
    .await;
}

/// A query string or a path segment that does not parse answers 400 with the JSON error body.
#[tokio::test]
async fn unparsable_query_and_path_answer_json() {
    on_each_store("openapi_bad_query_path", |db| async move {
        let world = World::start(db, Options::default()).await;
        let client = reqwest::Client::new();
        for (path, code) in [
            ("/v1/settlements?limit=many", "bad_query"),
            ("/v1/outbox?limit=1.5", "bad_query"),
            ("/v1/outbox?limit=-1", "bad_limit"),
            ("/v1/journal/not-a-number/raw", "bad_path"),
        ] {
            let response = client
                .get(world.url(path))
                .bearer_auth(OPERATOR_TOKEN)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 400, "{path}");
            let body: Value = response.json().await.expect("a JSON body");
            assert_eq!(body["error"]["code"], code, "{path}: {body}");
            assert!(body["error"]["message"].is_string(), "{path}: {body}");
        }
        world.finish().await
    })
    .await;
}
