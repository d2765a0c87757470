//! Injected misbehaviour of the send endpoint: Meta error codes answered synchronously or as a
//! later `failed` status, and slow answers. Faults are kept in injection order; the first one
//! that matches a send applies.

use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::ids::digits;

/// One injected fault. Over HTTP (`POST /_sim/faults`) it is this struct as JSON with the delay
/// as `delay_ms`; omitted fields take their "unset" value (`times` absent = until cleared).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// Meta error code, e.g. 130429, 131047, 190, 131056 (ignored when `slow_only`).
    pub code: i64,
    /// Apply to the next N matching sends; `None` = until cleared (see `fraction`).
    #[serde(default)]
    pub times: Option<u32>,
    /// Apply to this random share (0.0–1.0) of matching sends.
    #[serde(default)]
    pub fraction: Option<f64>,
    /// Only for sends to this recipient (digits, with or without `+` or formatting).
    #[serde(default)]
    pub to: Option<String>,
    /// Answer this late (for an asynchronous fault: post the `failed` status this late).
    #[serde(default, rename = "delay_ms", with = "opt_ms")]
    pub delay: Option<Duration>,
    /// Do not fail: answer the (successful) send late by `delay`.
    #[serde(default)]
    pub slow_only: bool,
    /// Accept the send (return a wamid), then post a `failed` status with this code, as Meta
    /// does for 131047, 131026, 131049 and friends.
    #[serde(default)]
    pub asynchronous: bool,
    /// With `slow_only`: accept the send and start its status webhooks at once, and only then
    /// hold the answer — so statuses reach the caller before the send response does (or, past
    /// the caller's timeout, instead of it).
    #[serde(default)]
    pub after_accept: bool,
}

impl Fault {
    /// Fail the next matching send with Meta error `code`.
    pub fn code(code: i64) -> Self {
        Self {
            code,
            times: Some(1),
            fraction: None,
            to: None,
            delay: None,
            slow_only: false,
            asynchronous: false,
            after_accept: false,
        }
    }

    /// Answer the next matching send successfully, but `delay` late.
    pub fn slow(delay: Duration) -> Self {
        Self {
            delay: Some(delay),
            slow_only: true,
            ..Self::code(0)
        }
    }

    /// Accept the next matching send (statuses start flowing) but answer it `delay` late.
    pub fn late_answer(delay: Duration) -> Self {
        Self {
            after_accept: true,
            ..Self::slow(delay)
        }
    }

    /// Apply to the next `n` matching sends.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// Apply to every matching send until cleared.
    pub fn always(mut self) -> Self {
        self.times = None;
        self
    }

    /// Apply to a random share of matching sends, until cleared.
    pub fn fraction(mut self, share: f64) -> Self {
        self.fraction = Some(share.clamp(0.0, 1.0));
        self.times = None;
        self
    }

    /// Only for sends to `phone`.
    pub fn to(mut self, phone: impl AsRef<str>) -> Self {
        self.to = Some(digits(phone.as_ref()));
        self
    }

    /// Accept the send and report the error later as a `failed` status webhook.
    pub fn asynchronous(mut self) -> Self {
        self.asynchronous = true;
        self
    }

    /// Answer (or, when asynchronous, post the `failed` status) `delay` late.
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    fn concerns(&self, to_digits: &str) -> bool {
        self.to.as_deref().is_none_or(|to| digits(to) == to_digits)
    }
}

/// The queue of injected faults.
#[derive(Debug, Default)]
pub(crate) struct FaultBook {
    faults: Vec<Fault>,
}

impl FaultBook {
    pub(crate) fn inject(&mut self, fault: Fault) {
        if fault.times != Some(0) {
            self.faults.push(fault);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.faults.clear();
    }

    pub(crate) fn list(&self) -> Vec<Fault> {
        self.faults.clone()
    }

    /// The fault that applies to a send to `to_digits`, consuming one of its `times`. A fault
    /// whose `fraction` roll misses lets the send fall through to later faults.
    pub(crate) fn take(&mut self, to_digits: &str, rng: &mut impl Rng) -> Option<Fault> {
        let index = self.faults.iter().position(|f| {
            f.concerns(to_digits) && f.fraction.is_none_or(|share| rng.random_bool(share))
        })?;
        let fault = &mut self.faults[index];
        let applied = fault.clone();
        if let Some(left) = fault.times.as_mut() {
            *left = left.saturating_sub(1);
            if *left == 0 {
                self.faults.remove(index);
            }
        }
        Some(applied)
    }
}

mod opt_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&(d.as_millis() as u64)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

#[cfg(test)]
mod tests {
    use rand::{SeedableRng, rngs::StdRng};

    use super::*;

    #[test]
    fn counted_faults_run_out_in_injection_order() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut book = FaultBook::default();
        book.inject(Fault::code(130429).times(2));
        book.inject(Fault::code(131047).to("+55 11 98888-7777"));
        let codes: Vec<_> = (0..4)
            .map(|_| book.take("5511988887777", &mut rng).map(|f| f.code))
            .collect();
        assert_eq!(codes, [Some(130429), Some(130429), Some(131047), None]);
    }

    #[test]
    fn recipient_faults_skip_other_recipients() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut book = FaultBook::default();
        book.inject(Fault::code(131056).to("5511988887777").always());
        assert!(book.take("447700900123", &mut rng).is_none());
        assert!(book.take("5511988887777", &mut rng).is_some());
        assert!(book.take("5511988887777", &mut rng).is_some());
    }

    #[test]
    fn fractions_apply_to_about_that_share() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut book = FaultBook::default();
        book.inject(Fault::code(131000).fraction(0.25));
        let hits = (0..4000)
            .filter(|_| book.take("1", &mut rng).is_some())
            .count();
        assert!((800..1200).contains(&hits), "{hits}");
    }

    #[test]
    fn reads_json_with_delay_in_ms() {
        let f: Fault = serde_json::from_str(r#"{"code":0,"slow_only":true,"delay_ms":250}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f.delay, Some(Duration::from_millis(250)));
        assert_eq!(f.times, None);
        let back = serde_json::to_value(Fault::slow(Duration::from_millis(5))).unwrap_or_default();
        assert_eq!(back["delay_ms"], 5);
    }
}
