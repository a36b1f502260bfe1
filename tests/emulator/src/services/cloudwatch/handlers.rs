//! CloudWatch's one operation served: PutMetricData, each datum read and checked against
//! CloudWatch's limits.

use axum::http::StatusCode;
use serde_json::Value;

use super::errors::{invalid, missing};
use super::state::{Dimension, MetricDatum, StatisticSet};
use crate::error::ApiError;
use crate::protocol::{Input, Reply, list, number, timestamp};
use crate::world::World;

/// PutMetricData: every datum checked, then all stored, or none.
pub(super) fn put_metric_data(world: &mut World, input: &Input) -> Result<Reply, ApiError> {
    let namespace = input.str("Namespace").ok_or_else(|| missing("Namespace"))?;
    let data = list(input.get("MetricData"));
    if data.is_empty() {
        return Err(missing("MetricData"));
    }
    at_most("MetricData", data.len(), MAX_METRIC_DATA)?;
    // All or nothing, as CloudWatch validates the whole request before storing.
    let parsed = data
        .iter()
        .enumerate()
        .map(|(i, datum)| parse_datum(namespace, datum, &format!("MetricData.member.{}", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    world.metrics.extend(parsed);
    Ok(Reply::Empty)
}

/// PutMetricData's limits (CloudWatch API reference, PutMetricData and MetricDatum): at most
/// 1,000 metrics per request, 30 dimensions and 150 values per metric.
const MAX_METRIC_DATA: usize = 1000;
const MAX_DIMENSIONS: usize = 30;
const MAX_VALUES: usize = 150;

fn parse_datum(namespace: &str, datum: &Value, at: &str) -> Result<MetricDatum, ApiError> {
    let text = |name: &str| datum.get(name).and_then(Value::as_str).map(str::to_owned);
    let num = |name: &str| -> Result<Option<f64>, ApiError> {
        let value = datum.get(name);
        value
            .map(|v| data_point(&format!("{at}.{name}"), v))
            .transpose()
    };
    let numbers = |name: &str| -> Result<Vec<f64>, ApiError> {
        let items = list(datum.get(name));
        at_most(&format!("{at}.{name}"), items.len(), MAX_VALUES)?;
        items
            .iter()
            .map(|v| data_point(&format!("{at}.{name}"), v))
            .collect()
    };
    let dimensions = list(datum.get("Dimensions"));
    at_most(
        &format!("{at}.Dimensions"),
        dimensions.len(),
        MAX_DIMENSIONS,
    )?;
    let dimensions = dimensions
        .iter()
        .map(|d| {
            let part = |name: &str| d.get(name).and_then(Value::as_str).map(str::to_owned);
            Ok(Dimension {
                name: part("Name").ok_or_else(|| missing(&format!("{at}.Dimensions.Name")))?,
                value: part("Value").ok_or_else(|| missing(&format!("{at}.Dimensions.Value")))?,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let statistic_values = match datum.get("StatisticValues") {
        None => None,
        Some(set) => {
            let field = |name: &str| {
                let at = format!("{at}.StatisticValues.{name}");
                set.get(name)
                    .ok_or_else(|| missing(&at))
                    .and_then(|v| data_point(&at, v))
            };
            Some(StatisticSet {
                sample_count: field("SampleCount")?,
                sum: field("Sum")?,
                minimum: field("Minimum")?,
                maximum: field("Maximum")?,
            })
        }
    };
    let (values, counts) = (numbers("Values")?, numbers("Counts")?);
    if !counts.is_empty() && counts.len() != values.len() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidParameterCombination",
            format!("The parameters {at}.Values and {at}.Counts must be of the same size."),
        ));
    }
    Ok(MetricDatum {
        namespace: namespace.to_owned(),
        metric_name: text("MetricName").ok_or_else(|| missing(&format!("{at}.MetricName")))?,
        dimensions,
        timestamp: datum
            .get("Timestamp")
            .map(|v| timestamp(v).ok_or_else(|| invalid(&format!("{at}.Timestamp"), v)))
            .transpose()?,
        value: num("Value")?,
        values,
        counts,
        statistic_values,
        unit: text("Unit"),
        storage_resolution: num("StorageResolution")?.map(|n| n as u64),
    })
}

/// A number CloudWatch accepts: "CloudWatch rejects values that are either too small or too
/// large. Values must be in the range of -2^360 to 2^360. In addition, special values (for
/// example, NaN, +Infinity, -Infinity) are not supported" (API reference, MetricDatum). Too
/// small means nearer zero than 2^-360 (the reference's earlier wording: "2e-360 to 2e360").
fn data_point(parameter: &str, value: &Value) -> Result<f64, ApiError> {
    let limit = 2f64.powi(360);
    number(value)
        .filter(|n| *n == 0.0 || (n.abs() <= limit && n.abs() >= 1.0 / limit))
        .ok_or_else(|| invalid(parameter, value))
}

/// CloudWatch's answer to a list longer than its limit.
fn at_most(parameter: &str, size: usize, limit: usize) -> Result<(), ApiError> {
    if size <= limit {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::BAD_REQUEST,
        "InvalidParameterValue",
        format!("The collection {parameter} must not have a size greater than {limit}."),
    ))
}
