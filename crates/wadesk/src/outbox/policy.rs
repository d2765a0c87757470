//! What to do after a failed Graph call (whatsapp-cloud-api.md §8): retry later, fail the
//! message, pause the number, or wait for a status webhook before deciding.

use std::time::Duration;

use whatsapp::{CallError, ErrorClass};

use crate::config::OutboxConfig;

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Try again after `after`; `pair_limited` when only this recipient must wait (131056).
    Retry { after: Duration, pair_limited: bool },
    /// Retrying cannot help: the message fails with Meta's error.
    Fail,
    /// The token is rejected: stop sending for this number until it is fixed.
    Pause,
    /// No answer: Graph may have sent it. Wait for a status webhook carrying our id before
    /// sending again.
    Reconcile { after: Duration, pair_limited: bool },
}

/// Decides for a send that has failed `attempts` times before (and `pair_limited` of those
/// with 131056). `jitter` in [0, 1) spreads retries of many messages apart.
pub fn decide(
    error: &CallError,
    attempts: i64,
    pair_limited: i64,
    config: &OutboxConfig,
    jitter: f64,
) -> Decision {
    let class = error.class();
    match class {
        ErrorClass::Auth => return Decision::Pause,
        ErrorClass::Permanent => return Decision::Fail,
        _ => {}
    }
    if attempts + 1 >= i64::from(config.max_attempts) {
        return Decision::Fail;
    }
    if matches!(error, CallError::Ambiguous(_)) {
        return Decision::Reconcile {
            after: config.reconcile_after(),
            pair_limited: false,
        };
    }
    let base = config.retry_base();
    let after = match class {
        // Meta: wait 4^X seconds, X = 0, 1, 2, … (with a one-second base).
        ErrorClass::PairRateLimited => {
            base.saturating_mul(4u32.saturating_pow(pair_limited.clamp(0, 15) as u32))
        }
        // A number in maintenance is back within about a minute.
        ErrorClass::Maintenance => base.saturating_mul(60),
        _ => {
            let exp = base.saturating_mul(2u32.saturating_pow(attempts.clamp(0, 30) as u32));
            // ±25 % jitter.
            exp.mul_f64(0.75 + 0.5 * jitter.clamp(0.0, 1.0))
        }
    };
    Decision::Retry {
        after: after.min(config.retry_max()),
        pair_limited: class == ErrorClass::PairRateLimited,
    }
}

#[cfg(test)]
mod tests {
    use whatsapp::GraphError;

    use super::*;

    fn config() -> OutboxConfig {
        OutboxConfig {
            rate_per_second: 80,
            retry_base_ms: 1000,
            retry_max_secs: 300,
            max_attempts: 10,
            lease_secs: 60,
            reconcile_secs: 60,
            concurrency: 8,
        }
    }

    fn graph(code: i64) -> CallError {
        CallError::Graph {
            status: 400,
            error: GraphError {
                message: format!("(#{code}) x"),
                kind: None,
                code,
                error_subcode: None,
                error_data: None,
                fbtrace_id: None,
            },
        }
    }

    #[test]
    fn follows_the_error_classes() {
        let c = config();
        assert_eq!(decide(&graph(190), 0, 0, &c, 0.5), Decision::Pause);
        assert_eq!(decide(&graph(0), 0, 0, &c, 0.5), Decision::Pause);
        assert_eq!(decide(&graph(131047), 0, 0, &c, 0.5), Decision::Fail);
        assert_eq!(decide(&graph(131026), 0, 0, &c, 0.5), Decision::Fail);
        assert_eq!(
            decide(&graph(130429), 2, 0, &c, 0.5),
            Decision::Retry {
                after: Duration::from_secs(4),
                pair_limited: false
            }
        );
        assert_eq!(
            decide(&graph(131056), 3, 2, &c, 0.5),
            Decision::Retry {
                after: Duration::from_secs(16),
                pair_limited: true
            }
        );
        assert_eq!(
            decide(&graph(131057), 0, 0, &c, 0.0),
            Decision::Retry {
                after: Duration::from_secs(60),
                pair_limited: false
            }
        );
        assert_eq!(
            decide(&CallError::Ambiguous("timeout".into()), 0, 0, &c, 0.5),
            Decision::Reconcile {
                after: Duration::from_secs(60),
                pair_limited: false
            }
        );
    }

    #[test]
    fn backoff_grows_with_jitter_caps_and_gives_up() {
        let c = config();
        let after = |attempts, jitter| match decide(&graph(1), attempts, 0, &c, jitter) {
            Decision::Retry { after, .. } => after,
            other => panic!("{other:?}"),
        };
        assert_eq!(after(0, 0.0), Duration::from_millis(750));
        assert_eq!(after(0, 1.0), Duration::from_millis(1250));
        assert!(after(3, 0.5) > after(2, 0.5));
        assert_eq!(after(8, 1.0), Duration::from_secs(300), "capped");
        assert_eq!(decide(&graph(1), 9, 0, &c, 0.5), Decision::Fail);
    }
}
