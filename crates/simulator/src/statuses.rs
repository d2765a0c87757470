//! The status webhooks that follow an accepted send: `sent`, `delivered`, `read` played per the
//! [`StatusPlan`], or a single `failed` status for an asynchronous fault.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::time::Instant;

use crate::{
    catalogue::status_error, config::StatusPlan, fault::Fault, ids::unix_now, payload,
    record::RecordedSend, sim::Simulator,
};

/// `pricing` of a `sent`/`delivered` status: service conversations are free (PMP since July
/// 2025), templates are billed as utility.
fn pricing(template: bool) -> Value {
    if template {
        json!({"billable": true, "pricing_model": "PMP", "type": "regular", "category": "utility"})
    } else {
        json!({"billable": false, "pricing_model": "PMP", "type": "free_customer_service",
            "category": "service"})
    }
}

/// One status webhook body per entry of `statuses` (or one body holding all of them).
fn envelope(sim: &Simulator, statuses: Vec<Value>) -> Value {
    let config = sim.config();
    payload::envelope(
        &config.phone_number_id,
        &config.display_phone_number,
        &config.waba_id,
        &[],
        Vec::new(),
        statuses,
    )
}

/// The status objects of a successful send in posting order, each with its offset.
fn planned_statuses(
    plan: &StatusPlan,
    send: &RecordedSend,
    template: bool,
) -> Vec<(Duration, Value)> {
    let Some(wamid) = send.wamid() else {
        return Vec::new();
    };
    let recipient = send.wa_id();
    let started = unix_now();
    let mut kinds = vec!["sent", "delivered"];
    if plan.read {
        kinds.push("read");
    }
    // Timestamps follow the logical order even when posts are reordered.
    let mut statuses: Vec<Value> = kinds
        .iter()
        .zip(plan.delays)
        .map(|(kind, delay)| {
            let mut s = payload::status(
                wamid,
                kind,
                &recipient,
                send.callback_data.as_deref(),
                Vec::new(),
            );
            s["timestamp"] = json!((started + delay.as_secs()).to_string());
            if *kind != "read" {
                s["pricing"] = pricing(template);
            }
            s
        })
        .collect();
    if plan.reorder {
        statuses.reverse();
        if statuses.len() == 3 {
            // read, then sent, then delivered
            statuses.swap(1, 2);
        }
    }
    plan.delays.into_iter().zip(statuses).collect()
}

/// Plays the status plan of an accepted send in the background.
pub(crate) fn spawn_plan(sim: &Simulator, send: &RecordedSend, template: bool) {
    let plan = sim.config().statuses;
    if !plan.enabled {
        return;
    }
    let planned = planned_statuses(&plan, send, template);
    let Some(last) = planned.last().map(|(delay, _)| *delay) else {
        return;
    };
    let posts: Vec<(Duration, Value)> = if plan.batch {
        vec![(
            last,
            envelope(sim, planned.into_iter().map(|(_, s)| s).collect()),
        )]
    } else {
        planned
            .into_iter()
            .map(|(delay, s)| (delay, envelope(sim, vec![s])))
            .collect()
    };
    spawn_posts(sim, posts, plan.duplicate);
}

/// Posts a `failed` status carrying the fault's code, after the fault's delay (or the plan's
/// first delay). Played even when the plan is disabled: the fault asked for it.
pub(crate) fn spawn_failure(sim: &Simulator, send: &RecordedSend, fault: &Fault) {
    let Some(wamid) = send.wamid() else {
        return;
    };
    let plan = sim.config().statuses;
    let error = serde_json::to_value(status_error(fault.code)).unwrap_or(Value::Null);
    let status = payload::status(
        wamid,
        "failed",
        &send.wa_id(),
        send.callback_data.as_deref(),
        vec![error],
    );
    let delay = fault.delay.unwrap_or(plan.delays[0]);
    spawn_posts(
        sim,
        vec![(delay, envelope(sim, vec![status]))],
        plan.duplicate,
    );
}

/// Posts each body at its offset from now, in order; failed posts are retried in the
/// background so later statuses are not held up.
fn spawn_posts(sim: &Simulator, posts: Vec<(Duration, Value)>, duplicate: bool) {
    let start = Instant::now();
    let task_sim = sim.clone();
    sim.spawn(async move {
        for (offset, body) in posts {
            tokio::time::sleep_until(start + offset).await;
            let bytes = match crate::escape::to_meta_json(&body) {
                Ok(bytes) => bytes,
                Err(e) => {
                    tracing::warn!(error = %e, "status webhook not serialisable");
                    continue;
                }
            };
            for _ in 0..if duplicate { 2 } else { 1 } {
                task_sim.post_in_background(bytes.clone()).await;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepted() -> RecordedSend {
        RecordedSend {
            at: std::time::Instant::now(),
            to: "+5511988887777".into(),
            body: Value::Null,
            callback_data: Some("outbox:1".into()),
            outcome: Ok("wamid.X".into()),
        }
    }

    fn kinds(plan: &StatusPlan) -> Vec<String> {
        planned_statuses(plan, &accepted(), false)
            .iter()
            .map(|(_, s)| s["status"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    #[test]
    fn plans_in_order_or_reordered() {
        let plan = StatusPlan::default();
        assert_eq!(kinds(&plan), ["sent", "delivered", "read"]);
        let reordered = StatusPlan {
            reorder: true,
            ..plan.clone()
        };
        assert_eq!(kinds(&reordered), ["read", "sent", "delivered"]);
        let unread = StatusPlan {
            read: false,
            ..plan
        };
        assert_eq!(kinds(&unread), ["sent", "delivered"]);
    }

    #[test]
    fn statuses_echo_callback_data_and_price_sent() {
        let planned = planned_statuses(&StatusPlan::default(), &accepted(), true);
        let (_, sent) = &planned[0];
        assert_eq!(sent["recipient_id"], "5511988887777");
        assert_eq!(sent["biz_opaque_callback_data"], "outbox:1");
        assert_eq!(sent["pricing"]["category"], "utility");
        assert!(planned[2].1.get("pricing").is_none());
    }
}
