//! SQLite keeps the webhook journal in a file of its own: webhooks are acknowledged whatever
//! the main file's writer is doing, and a database from before keeps what it had journaled.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;
use simulator::payload;
use sqlx::{
    Connection, Executor, SqliteConnection,
    sqlite::{SqliteConnectOptions, SqliteJournalMode},
};

use crate::{
    db::{Db, TestDb},
    helpers::{CUSTOMER, CUSTOMER_NAME, TestApp, start_simulator, test_config},
};

async fn connect(file: &std::path::Path) -> SqliteConnection {
    SqliteConnection::connect_with(
        &SqliteConnectOptions::new()
            .filename(file)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn webhooks_are_acknowledged_while_the_database_writer_is_held() {
    let app = TestApp::spawn_with(|_| {}).await;
    let mut holder = connect(&app.dir.path().join("wadesk.db")).await;
    holder.execute("BEGIN IMMEDIATE").await.unwrap();

    let msg = payload::text(CUSTOMER, "are you there?");
    let wamid = msg["id"].as_str().unwrap().to_owned();
    let acked = tokio::time::timeout(
        Duration::from_secs(3),
        app.webhook(&app.from_customer(vec![msg])),
    )
    .await
    .expect("the webhook is acknowledged while another writer holds the database");
    assert_eq!(acked, StatusCode::OK);

    tokio::time::sleep(Duration::from_millis(300)).await;
    let (s, _) = app.get(&format!("/api/v1/messages/{wamid}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "nothing can be applied meanwhile");
    assert_eq!(app.health().await["webhooks"]["pending"], 1);

    holder.execute("ROLLBACK").await.unwrap();
    app.eventually("the message is applied once the writer is free", || async {
        let (s, _) = app.get(&format!("/api/v1/messages/{wamid}")).await;
        (s == StatusCode::OK).then_some(())
    })
    .await;
    app.eventually("the journal entry is done", || async {
        let journal = app.journal().await;
        (journal.len() == 1 && journal[0]["state"] == "done").then_some(())
    })
    .await;
    assert_eq!(app.health().await["webhooks"]["pending"], 0);
}

#[tokio::test]
async fn a_database_with_its_journal_inside_moves_it_out_and_applies_what_was_pending() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wadesk.db");
    let sim = start_simulator().await;
    let msg = payload::text(CUSTOMER, "written before the upgrade");
    let wamid = msg["id"].as_str().unwrap().to_owned();
    let body = simulator::to_meta_json(&payload::envelope(
        &sim.phone_number_id(),
        &sim.display_phone_number(),
        &sim.waba_id(),
        &[(CUSTOMER, CUSTOMER_NAME)],
        vec![msg],
        vec![],
    ))
    .unwrap();
    {
        let mut old = connect(&file).await;
        sqlx::migrate!("./migrations/sqlite")
            .run(&mut old)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO webhook_events (id, received_at, source, signature, body, state, \
             attempts, next_attempt_at, last_error, processed_at) VALUES \
             (7, 1700000000000, 'meta', 'valid', ?, 'failed', 5, 0, 'kept for an admin', NULL), \
             (8, 1700000001000, 'meta', 'valid', ?, 'pending', 0, 0, NULL, NULL)",
        )
        .bind(b"not a notification".as_slice())
        .bind(&body)
        .execute(&mut old)
        .await
        .unwrap();
        old.close().await.unwrap();
    }

    let db = TestDb::create(Db::Sqlite, dir.path()).await;
    let app = TestApp::start(test_config(&db.url, &sim), sim, dir, db).await;
    app.eventually("the pending body is applied", || async {
        let (s, _) = app.get(&format!("/api/v1/messages/{wamid}")).await;
        (s == StatusCode::OK).then_some(())
    })
    .await;
    let journal = app
        .eventually("both entries are in the journal, settled", || async {
            let j = app.journal().await;
            (j.len() == 2 && j.iter().all(|e| e["state"] != "pending")).then_some(j)
        })
        .await;
    let by_id = |id: i64| journal.iter().find(|e| e["id"] == id).cloned();
    let failed = by_id(7).expect("the failed entry kept its id");
    assert_eq!(
        (failed["state"].clone(), failed["last_error"].clone()),
        (Value::from("failed"), Value::from("kept for an admin"))
    );
    assert_eq!(
        by_id(8).expect("the pending entry kept its id")["state"],
        "done"
    );

    let mut main = connect(&app.dir.path().join("wadesk.db")).await;
    let left: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'webhook_events'",
    )
    .fetch_one(&mut main)
    .await
    .unwrap();
    assert_eq!(left, 0, "the main file no longer holds a journal");
    main.close().await.unwrap();

    let (sim, dir, db) = app.stop().await;
    let app = TestApp::start(test_config(&db.url, &sim), sim, dir, db).await;
    assert_eq!(
        app.journal().await.len(),
        2,
        "a restart moves nothing again"
    );
    let (s, page) = app.get("/api/v1/conversations?limit=10").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(page["conversations"].as_array().map(Vec::len), Some(1));
    assert_eq!(page["conversations"][0]["unread_count"], 1);
}

#[tokio::test]
async fn a_body_applied_again_after_its_outcome_was_lost_changes_nothing() {
    let app = TestApp::spawn_with(|_| {}).await;
    app.customer_says("only once, please").await;
    let settled = |attempts: i64| {
        let app = &app;
        async move {
            let journal = app.journal().await;
            (journal.len() == 1
                && journal[0]["state"] == "done"
                && journal[0]["attempts"] == attempts)
                .then_some(())
        }
    };
    app.eventually("the body is settled", || settled(1)).await;
    let (_, before) = app.get("/api/v1/conversations?limit=10").await;
    let conversation = before["conversations"][0]["id"].clone();
    assert!(
        before["conversations"][0]["last_message"].is_object(),
        "{before}"
    );

    // A crash after the batch committed and before its outcome did.
    let mut journal = connect(&app.dir.path().join("wadesk.db.webhooks")).await;
    sqlx::query("UPDATE webhook_events SET state = 'pending', processed_at = NULL")
        .execute(&mut journal)
        .await
        .unwrap();
    journal.close().await.unwrap();
    app.eventually("the body is applied again", || settled(2))
        .await;

    let (_, after) = app.get("/api/v1/conversations?limit=10").await;
    assert_eq!(after["conversations"].as_array().map(Vec::len), Some(1));
    assert_eq!(after["conversations"][0]["unread_count"], 1);
    assert_eq!(
        after["conversations"][0]["last_message"],
        before["conversations"][0]["last_message"]
    );
    let (s, messages) = app
        .get(&format!(
            "/api/v1/conversations/{conversation}/messages?limit=10"
        ))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(messages["messages"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_group_commit_that_fails_is_undone_and_the_next_one_is_stored() {
    let app = TestApp::spawn_with(|_| {}).await;
    let mut admin = connect(&app.dir.path().join("wadesk.db.webhooks")).await;
    admin
        .execute(
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON webhook_events \
             WHEN instr(NEW.body, CAST('poison' AS BLOB)) > 0 \
             BEGIN SELECT RAISE(ABORT, 'refused'); END",
        )
        .await
        .unwrap();

    let poison = payload::text(CUSTOMER, "poison");
    let poison_wamid = poison["id"].as_str().unwrap().to_owned();
    let refused = app.webhook(&app.from_customer(vec![poison])).await;
    assert_eq!(
        refused,
        StatusCode::SERVICE_UNAVAILABLE,
        "a body that cannot be journaled is not acknowledged"
    );

    let msg = payload::text(CUSTOMER, "hello after that");
    let wamid = msg["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.webhook(&app.from_customer(vec![msg])).await,
        StatusCode::OK,
        "the next commit does not run inside the failed one"
    );
    app.eventually("the next message is applied", || async {
        let (s, _) = app.get(&format!("/api/v1/messages/{wamid}")).await;
        (s == StatusCode::OK).then_some(())
    })
    .await;
    let journal = app.journal().await;
    assert_eq!(
        journal.len(),
        1,
        "nothing of the failed commit is kept: {journal:?}"
    );
    let (s, _) = app.get(&format!("/api/v1/messages/{poison_wamid}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
