//! The OpenAPI document matches the router: the same (method, path) pairs,
//! the same public/protected split, and it is served without a session.

use std::collections::BTreeSet;

use dashboard_api::{openapi::DOCUMENT, routes};
use http::{Method, StatusCode};
use serde_json::Value;

use crate::support::{Db, TestApp};

/// Every `$ref` in `v`.
fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "$ref" {
                    out.push(x.as_str().unwrap());
                } else {
                    refs(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[test]
fn document_and_router_list_the_same_operations() {
    let doc: Value = serde_json::from_str(DOCUMENT).expect("openapi.json is JSON");
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            let public = op
                .get("security")
                .is_some_and(|s| s == &Value::Array(vec![]));
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path} documents no response"
            );
            if !public {
                assert!(
                    op["responses"].get("401").is_some(),
                    "{method} {path} is protected but documents no 401"
                );
            }
            documented.insert((method.to_uppercase(), path.clone(), public));
        }
    }
    let routed: BTreeSet<_> = routes::table()
        .into_iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned(), r.public))
        .collect();
    assert_eq!(
        documented.difference(&routed).collect::<Vec<_>>(),
        Vec::<&(String, String, bool)>::new(),
        "documented but not routed"
    );
    assert_eq!(
        routed.difference(&documented).collect::<Vec<_>>(),
        Vec::<&(String, String, bool)>::new(),
        "routed but not documented"
    );
    // Every $ref resolves.
    let mut all = Vec::new();
    refs(&doc, &mut all);
    for r in all {
        let ptr = r.strip_prefix('#').expect("local ref");
        assert!(doc.pointer(ptr).is_some(), "dangling $ref {r}");
    }
}

#[tokio::test]
async fn served_without_a_session() {
    let app = TestApp::new(Db::Sqlite).await;
    let r = app
        .req(Method::GET, "/api/v1/openapi.json")
        .send()
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(r.json["info"]["title"], "Upbit platform dashboard-api");
    app.shutdown().await;
}
