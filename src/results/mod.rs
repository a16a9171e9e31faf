//! What a run folder's data says, between the records and the figures: every seed's trace per
//! group, scope and metric ([`RunData`]), the groups' labels, each seed's final value, the
//! checks a reader's request gets against the data, comparisons of arms with a control, and the
//! overoptimization fits. `summary`, `compare`, `report`, the claims, `robustness`, the figures
//! and the demo all read their numbers from here.

pub mod arms;
pub mod compare;
mod data;
pub mod overoptimization;
pub mod select;

pub use data::{Group, Header, RefineHeader, RunData, Series, SweepAxis, final_value, group_label};

use serde::Serialize;

/// Serializes a number for CSV and JSON, with an empty field (`null`) where it is NaN or
/// infinite: neither format has a portable spelling for those.
pub fn finite_or_none<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    v.is_finite().then_some(*v).serialize(s)
}
