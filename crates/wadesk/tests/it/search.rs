//! Search: message text (full text, newest first), contacts by name or number, and the
//! conversation list filtered by a query.

use reqwest::StatusCode;
use simulator::payload;

use crate::{
    db::backend_tests,
    helpers::{CUSTOMER, TestApp},
};

async fn seed(app: &TestApp) {
    let other = "4915112345678";
    let msgs = vec![
        payload::text(CUSTOMER, "Where is my order #4521?"),
        payload::text(CUSTOMER, "Olá, obrigado pela ajuda"),
    ];
    assert_eq!(app.webhook(&app.from_customer(msgs)).await, StatusCode::OK);
    let m = payload::text(other, "I would like a refund please");
    assert_eq!(
        app.webhook(&app.envelope(&[(other, "Jonas Weber")], vec![m], vec![]))
            .await,
        StatusCode::OK
    );
    app.eventually("three messages stored", || async {
        let (_, l) = app.get("/api/v1/messages").await;
        (l["messages"].as_array().map(Vec::len) == Some(3)).then_some(())
    })
    .await;
}

async fn texts(app: &TestApp, q: &str) -> Vec<String> {
    let (s, v) = app.get(&format!("/api/v1/search?q={}", urlencode(q))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

backend_tests! {
    async fn finds_messages_by_words_and_prefixes(db: Db) {
        let app = TestApp::spawn_on(db).await;
        seed(&app).await;
        assert_eq!(texts(&app, "order").await, ["Where is my order #4521?"]);
        assert_eq!(texts(&app, "ORDER 4521").await, ["Where is my order #4521?"]);
        assert_eq!(texts(&app, "ord").await, ["Where is my order #4521?"], "prefix of the last word");
        assert_eq!(texts(&app, "obrigad").await, ["Olá, obrigado pela ajuda"]);
        assert_eq!(texts(&app, "olá").await, ["Olá, obrigado pela ajuda"]);
        assert!(texts(&app, "order refund").await.is_empty(), "all words must match");
        assert!(texts(&app, "\"NEAR(*").await.is_empty(), "query syntax is not interpreted");
        let (s, e) = app.get("/api/v1/search?q=").await;
        assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_query")));
    }

    async fn finds_contacts_by_name_or_number(db: Db) {
        let app = TestApp::spawn_on(db).await;
        seed(&app).await;
        let (_, v) = app.get("/api/v1/search?q=jonas").await;
        assert_eq!(v["contacts"][0]["name"], "Jonas Weber");
        let (_, v) = app.get("/api/v1/search?q=98888").await;
        assert_eq!(v["contacts"][0]["wa_id"], CUSTOMER);
        assert_eq!(v["contacts"].as_array().unwrap().len(), 1);
    }

    async fn the_conversation_list_filters_by_query(db: Db) {
        let app = TestApp::spawn_on(db).await;
        seed(&app).await;
        let (_, v) = app.get("/api/v1/conversations?q=refund").await;
        let list = v["conversations"].as_array().unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["contact"]["name"], "Jonas Weber");
        let (_, v) = app.get("/api/v1/conversations?q=Ana").await;
        assert_eq!(v["conversations"].as_array().unwrap().len(), 1);
        let (_, v) = app.get("/api/v1/conversations?q=nothing-like-this").await;
        assert!(v["conversations"].as_array().unwrap().is_empty());
    }
}
