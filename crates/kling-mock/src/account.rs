//! Accounts: the credit ledger (charged per the cost table, 429/1102 when it runs dry),
//! the per-account concurrency limit (429/1303), the optional request-rate limit
//! (429/1302) and the `account/costs` answer.

use kling_api::codes::ErrorCode;
use serde_json::{Value, json};

use crate::config::AccountConfig;
use crate::envelope::ApiError;

/// Kling allows one `account/costs` query per second.
const COSTS_MIN_GAP_MS: f64 = 1000.0;

/// A token bucket: `rate` tokens per second, holding at most `capacity`.
#[derive(Debug, Clone)]
struct Bucket {
    rate: f64,
    capacity: f64,
    tokens: f64,
    last_ms: f64,
}

impl Bucket {
    fn new(rate: f64) -> Self {
        let capacity = rate.max(1.0);
        Bucket { rate, capacity, tokens: capacity, last_ms: 0.0 }
    }

    fn take(&mut self, now_ms: f64) -> bool {
        let refill = (now_ms - self.last_ms).max(0.0) / 1000.0 * self.rate;
        self.tokens = (self.tokens + refill).min(self.capacity);
        self.last_ms = now_ms;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// One account's live state.
#[derive(Debug, Clone)]
pub(crate) struct AccountState {
    pub(crate) config: AccountConfig,
    pub(crate) remaining: f64,
    bucket: Option<Bucket>,
    last_costs_ms: Option<f64>,
    created_ms: i64,
}

impl AccountState {
    pub(crate) fn new(config: &AccountConfig, now_ms: i64) -> Self {
        AccountState {
            config: config.clone(),
            remaining: config.credits,
            bucket: config.requests_per_second.map(Bucket::new),
            last_costs_ms: None,
            created_ms: now_ms,
        }
    }

    /// Count one API request against the rate limit (monotonic milliseconds: rate
    /// limits are about real time, so moving the mock's clock does not refill them).
    pub(crate) fn admit(&mut self, mono_ms: f64) -> Result<(), ApiError> {
        let Some(bucket) = &mut self.bucket else {
            return Ok(());
        };
        if bucket.take(mono_ms) {
            return Ok(());
        }
        Err(ApiError::new(
            ErrorCode::RATE_LIMITED,
            format!(
                "more than {} requests per second from access key {}; retry with exponential backoff and jitter",
                bucket.rate, self.config.access_key
            ),
        ))
    }

    pub(crate) fn admit_costs_query(&mut self, mono_ms: f64) -> Result<(), ApiError> {
        if let Some(last) = self.last_costs_ms
            && mono_ms - last < COSTS_MIN_GAP_MS
        {
            return Err(ApiError::new(
                ErrorCode::RATE_LIMITED,
                "account/costs allows one query per second; wait a second before asking again",
            ));
        }
        self.last_costs_ms = Some(mono_ms);
        Ok(())
    }

    /// Take `units` from the pack, or refuse with 1102.
    pub(crate) fn charge(&mut self, units: f64) -> Result<(), ApiError> {
        self.check_credits(units)?;
        self.remaining = (self.remaining - units).max(0.0);
        Ok(())
    }

    /// Refuse with 1102 unless the pack holds `units`.
    pub(crate) fn check_credits(&self, units: f64) -> Result<(), ApiError> {
        // A small tolerance so that repeated fractional charges (3.5 units) that add
        // up to exactly the pack are not refused by rounding.
        if self.remaining + 1e-9 < units {
            return Err(ApiError::new(
                ErrorCode::CREDITS_DEPLETED,
                format!(
                    "the resource pack of access key {} has {} units left and this task costs {units}; \
                     top up the account (this 429 is final: do not retry)",
                    self.config.access_key,
                    round2(self.remaining)
                ),
            ));
        }
        Ok(())
    }

    /// Give back the units of a task that failed (Kling does not bill failed tasks).
    pub(crate) fn refund(&mut self, units: f64) {
        self.remaining += units;
    }

    pub(crate) fn set_credits(&mut self, units: f64) {
        self.config.credits = units;
        self.remaining = units;
    }

    /// The `data` of `GET /account/costs`, in Kling's shape: one resource pack.
    pub(crate) fn costs(&self, now_ms: i64) -> Value {
        let year_ms = 365 * 24 * 3600 * 1000_i64;
        let status = if self.remaining > 0.0 { "online" } else { "runOut" };
        json!({
            "code": 0,
            "msg": "",
            "resource_pack_subscribe_infos": [{
                "resource_pack_name": "Video Generation - mock pack",
                "resource_pack_id": format!("mock-pack-{}", self.config.access_key),
                "resource_pack_type": "decreasing_total",
                "total_quantity": round2(self.config.credits),
                "remaining_quantity": round2(self.remaining),
                "purchase_time": self.created_ms,
                "effective_time": self.created_ms,
                "invalid_time": self.created_ms.max(now_ms) + year_ms,
                "status": status,
            }]
        })
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_charges_refunds_and_refuses_with_1102() {
        let mut a = AccountState::new(&AccountConfig { credits: 3.0, ..AccountConfig::default() }, 0);
        a.charge(2.0).unwrap();
        assert_eq!(a.charge(2.0).unwrap_err().code.code(), 1102);
        a.refund(2.0);
        a.charge(3.0).unwrap();
        assert_eq!(a.costs(0)["resource_pack_subscribe_infos"][0]["status"], "runOut");
    }

    #[test]
    fn rate_limit_refills_over_time() {
        let mut a = AccountState::new(&AccountConfig { requests_per_second: Some(2.0), ..AccountConfig::default() }, 0);
        assert!(a.admit(0.0).is_ok() && a.admit(1.0).is_ok());
        assert_eq!(a.admit(2.0).unwrap_err().code.code(), 1302);
        assert!(a.admit(600.0).is_ok());
        assert!(a.admit_costs_query(0.0).is_ok());
        assert!(a.admit_costs_query(500.0).is_err());
        assert!(a.admit_costs_query(1600.0).is_ok());
    }
}
