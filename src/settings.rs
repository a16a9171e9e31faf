//! What every layer's settings share: the error that names a bad key, what is wrong and what is
//! allowed, and the range checks that produce it. Each layer validates its own section; the run
//! composes them (`run::RunConfig::validate`).

/// A bad value: which key, what is wrong, what is allowed.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("`{key}` = {value}: {allowed}")]
pub struct InvalidValue {
    pub key: String,
    pub value: String,
    pub allowed: String,
}

/// `Err` naming `key` unless `ok`.
pub fn check(key: &str, value: impl std::fmt::Display, ok: bool, allowed: &str) -> Result<(), InvalidValue> {
    if ok {
        Ok(())
    } else {
        Err(InvalidValue {
            key: key.to_string(),
            value: value.to_string(),
            allowed: allowed.to_string(),
        })
    }
}

pub fn unit(key: &str, v: f64) -> Result<(), InvalidValue> {
    check(key, v, (0.0..=1.0).contains(&v), "must be in [0, 1]")
}

pub fn finite(key: &str, v: f64) -> Result<(), InvalidValue> {
    check(key, v, v.is_finite(), "must be a finite number")
}

pub fn non_negative(key: &str, v: f64) -> Result<(), InvalidValue> {
    check(key, v, v.is_finite() && v >= 0.0, "must be a finite number ≥ 0")
}

pub fn positive(key: &str, v: f64) -> Result<(), InvalidValue> {
    check(key, v, v.is_finite() && v > 0.0, "must be a finite number > 0")
}

pub fn at_least(key: &str, v: usize, min: usize) -> Result<(), InvalidValue> {
    check(key, v, v >= min, &format!("must be an integer ≥ {min}"))
}

pub fn within(key: &str, v: usize, min: usize, max: usize) -> Result<(), InvalidValue> {
    check(
        key,
        v,
        (min..=max).contains(&v),
        &format!("must be an integer in {min}..={max}"),
    )
}

/// A setting that cannot change the run with the rest of its configuration: `why` says which
/// other setting makes it idle.
pub fn idle(key: &str, value: impl std::fmt::Display, why: &str) -> InvalidValue {
    InvalidValue {
        key: key.to_string(),
        value: value.to_string(),
        allowed: format!("has no effect {why}; remove it"),
    }
}
